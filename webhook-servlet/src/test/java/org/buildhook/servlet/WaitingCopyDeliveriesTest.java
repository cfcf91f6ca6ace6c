package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import jakarta.servlet.DispatcherType;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.buildhook.servlet.it.Deliveries;
import org.eclipse.jetty.ee10.servlet.FilterHolder;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * upgrade26 (tryout25 F8): a copy of the web application that waits for its previous copy in this JVM (a WAR
 * replaced in Jetty 12) verifies deliveries with its own configuration and has the previous copy store them
 * ({@link DeliveryHandOver}, found in the platform MBean server); one it cannot have stored is answered 503 with
 * {@code Retry-After} and logged with its build and "re-send this build". A real running application on SQLite
 * (the previous copy), the waiting copy's filter and servlet in a real Jetty, real HTTP.
 */
class WaitingCopyDeliveriesTest {

    @TempDir
    Path dir;

    private BuildhookConfig config;
    private BuildhookApplication previous;
    private Server server;
    private URI webhook;
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final ch.qos.logback.classic.Logger deliveryLog =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DeliveryService.class);

    @BeforeEach
    void start() throws Exception {
        Files.writeString(dir.resolve("secret"), Deliveries.SECRET + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: notify\n    run: {command: [/bin/true]}\n");
        Path file = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: rules.yaml\n"
                + "endpoints:\n  default:\n    secrets:\n      - file: secret\n");
        config = new ConfigLoader(Map.of(), dir).load(file);
        log.start();
        deliveryLog.addAppender(log);
    }

    @AfterEach
    void stop() throws Exception {
        deliveryLog.detachAppender(log);
        if (server != null) {
            server.stop();
        }
        if (previous != null) {
            previous.close();
        }
    }

    /** The previous copy, running with its store open, publishes its hand-over (what a web application does). */
    private void startPreviousCopy() {
        previous = BuildhookApplication.start(config);
        previous.publishHandOver();
    }

    /** The waiting copy's filter in front of the webhook servlet, as {@link BuildhookListener} sets it up. */
    private void serveWaitingCopy(
            Supplier<Optional<Function<Map<String, Object>, Map<String, Object>>>> handOver) throws Exception {
        BuildhookMetrics metrics = BuildhookMetrics.create(config.endpoints().keySet(), false);
        DeliveryService deliveries = DeliveryService.waiting(BuildhookApplication.verifiers(config), metrics,
                Clock.systemUTC(), handOver, () -> null, "this copy waits for its previous copy");
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/buildhook");
        FilterHolder filter = new FilterHolder(new WaitingFilter(config.http().retryAfter(), new WebhookServlet.Parts(
                config, deliveries, metrics, new RemoteAddress(config.http().trustedProxies()))));
        filter.setAsyncSupported(true);
        context.addFilter(filter, "/*", EnumSet.of(DispatcherType.REQUEST));
        ServletHolder servlet = new ServletHolder(new WebhookServlet());
        servlet.setAsyncSupported(true);
        context.addServlet(servlet, "/webhook");
        context.addServlet(servlet, "/webhook/*");
        server.setHandler(context);
        server.start();
        webhook = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/buildhook/webhook");
    }

    private Optional<Function<Map<String, Object>, Map<String, Object>>> found() {
        return DeliveryHandOver.find(config.store(), config.engine().nodeId());
    }

    @Test
    void theWaitingCopyVerifiesAndThePreviousCopyStoresOnceThenRefusesLoggedOnceItsStoreCloses() throws Exception {
        startPreviousCopy();
        serveWaitingCopy(this::found);

        var accepted = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(69));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        String id = accepted.body().replaceAll("(?s).*\"delivery\":\"([^\"]+)\".*", "$1");
        assertThat(previous.store().delivery(id)).as("stored by the previous copy").isPresent();
        var again = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(69));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(again.body()).contains("\"duplicate\":true", id);
        // Verified with the waiting copy's secrets: a wrong signature never reaches the previous copy.
        assertThat(Deliveries.post(webhook, Deliveries.seedWithBuildId(70), "sha256:" + "0".repeat(64)).statusCode())
                .isEqualTo(401);
        assertThat(Deliveries.post(URI.create(webhook + "/nope"), Deliveries.seedWithBuildId(70), "x").statusCode())
                .isEqualTo(404);

        // The previous copy's store closes (the end of its stop): the hand-over is gone, a delivery is refused.
        previous.close();
        previous = null;
        assertThat(found()).isEmpty();
        var refused = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(71));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(refused.body()).contains("\"error\":\"storage unavailable, retry later\"");
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).filteredOn(m -> m.contains("build 71"))
                .singleElement().satisfies(m -> assertThat(m).contains("endpoint 'default' not stored, answering 503",
                        "build 71 PASSED of ", "no previous copy takes deliveries", "re-send this build"));
    }

    /** A hand-over found while the previous copy ran, used once its store has closed: 503, logged. */
    @Test
    void aHandOverThatMeetsAClosedStoreIsRefusedAndLogged() throws Exception {
        startPreviousCopy();
        Optional<Function<Map<String, Object>, Map<String, Object>>> handOver = found();
        assertThat(handOver).isPresent();
        previous.close();
        previous = null;
        serveWaitingCopy(() -> handOver);

        var refused = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(72));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).filteredOn(m -> m.contains("build 72"))
                .singleElement().satisfies(m -> assertThat(m).contains("not stored, answering 503",
                        "that copy's store has closed", "re-send this build"));
    }

    /** A previous copy of a version without the hand-over (none published): 503 as before, now logged. */
    @Test
    void withoutAPublishedHandOverADeliveryIsRefusedAndLogged() throws Exception {
        serveWaitingCopy(this::found);

        var refused = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(73));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).filteredOn(m -> m.contains("build 73"))
                .singleElement().satisfies(m -> assertThat(m).contains("no previous copy takes deliveries",
                        "re-send this build"));
    }
}
