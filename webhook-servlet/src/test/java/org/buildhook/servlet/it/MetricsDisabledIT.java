package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code metrics.enabled: false}: the real WAR in Jetty answers 404 on /metrics and still receives webhooks. */
class MetricsDisabledIT {

    @Test
    void metricsTurnedOffAnswer404AndWebhooksStillWork(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: secret",
                "metrics:",
                "  enabled: false",
                ""));
        try (Container container = new JettyContainer(dir.resolve("container"))) {
            assertThat(container.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();

            HttpResponse<String> metrics = Deliveries.get(container.base().resolve("metrics"));
            HttpResponse<String> delivery = Deliveries.postSigned(container.base().resolve("webhook"),
                    Deliveries.seedWithBuildId(701));

            assertThat(metrics.statusCode()).isEqualTo(404);
            assertThat(metrics.body()).contains("metrics.enabled: false").doesNotContain("buildhook_");
            assertThat(delivery.statusCode()).isEqualTo(202);
        }
    }
}
