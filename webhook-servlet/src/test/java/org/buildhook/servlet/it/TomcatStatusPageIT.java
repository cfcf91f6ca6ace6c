package org.buildhook.servlet.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page of the WAR in a real Tomcat, under its context path: a {@code ?token=} link
 * lands on the page it names (its other parameters kept, the context path in front), and the
 * live part the open page polls answers with the cookie, shows a new delivery, and answers 401
 * without it. The cookie is not the token (tryout55 F2), and opens the API as a cookie only.
 */
class TomcatStatusPageIT {

    private static final String TOKEN = "status-page-admin-token-0123456789";

    private static HttpResponse<String> get(URI uri, String cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(Deliveries.REQUEST_TIMEOUT).GET();
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        return Deliveries.HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aTokenLinkLandsOnItsPageUnderTheContextPathAndTheLivePartFollowsNewDeliveries(@TempDir Path dir)
            throws Exception {
        Files.writeString(dir.resolve("admin-token"), TOKEN + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: noop\n    run:\n      command: [/bin/true]\n");
        Path config = Installations.writeBuildhookYaml(dir,
                "admin:",
                "  token: {file: admin-token}");
        try (Container tomcat = new TomcatContainer(dir.resolve("container"))) {
            assertThat(tomcat.deploy(Container.war(), config)).as("the WAR deployed and started").isTrue();
            URI base = tomcat.base();

            HttpResponse<String> login = get(base.resolve("?token=" + TOKEN + "&state=SUCCEEDED"), null);
            String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
            String cookie = setCookie.substring(0, setCookie.indexOf(';'));
            HttpResponse<String> page = get(base.resolve("?state=SUCCEEDED"), cookie);
            HttpResponse<String> before = get(base.resolve("?part=live"), cookie);
            String delivery = new ObjectMapper().readTree(Deliveries.postSigned(base.resolve("webhook"),
                    Deliveries.seedWithBuildId(801)).body()).path("delivery").asText();

            assertThat(login.statusCode()).isEqualTo(303);
            assertThat(login.headers().firstValue("Location")).hasValue("/buildhook/?state=SUCCEEDED");
            assertThat(setCookie).contains("Path=/buildhook").contains("HttpOnly").doesNotContain(TOKEN)
                    .startsWith("buildhook_admin=v1.");
            // tryout55 F2: the cookie opens the API under the context path, but is no bearer token.
            assertThat(get(base.resolve("api/jobs"), cookie).statusCode()).isEqualTo(200);
            assertThat(Deliveries.HTTP.send(HttpRequest.newBuilder(base.resolve("api/jobs"))
                    .timeout(Deliveries.REQUEST_TIMEOUT).header("Authorization", "Bearer "
                            + cookie.substring(cookie.indexOf('=') + 1)).GET().build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(401);
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.body()).contains("data-poll=").contains("id=\"summary\"");
            assertThat(page.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(csp ->
                    assertThat(csp).contains("connect-src 'self'").contains("default-src 'none'"));
            assertThat(before.statusCode()).isEqualTo(200);
            assertThat(before.body()).contains("id=\"live-deliveries\" class=\"scroll-x\" data-live").doesNotContain(delivery);
            await().atMost(Duration.ofSeconds(30)).until(() -> get(base.resolve("?part=live"), cookie).body()
                    .contains("data-id=\"" + delivery + "\""));
            assertThat(get(base.resolve("?part=live"), cookie).body()).contains("id=\"tile-deliveries\" data-value=\"1\"");
            assertThat(get(base.resolve("?part=live"), null).statusCode()).isEqualTo(401);
        }
    }
}
