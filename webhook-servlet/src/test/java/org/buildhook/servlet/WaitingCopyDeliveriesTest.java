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
    private DeliveryService waiting;
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
        waiting = deliveries;
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

    /**
     * war31 L: a build answered 503 in a redeploy's gap (the previous copy's store closed, or it takes no hand-over,
     * and this copy has not started) was logged but not in refused-builds: the waiting copy's list was dropped at its
     * start. Through the real listener: the copy that waited keeps the list, and a later delivery of the build takes
     * it off as usual.
     */
    @Test
    void aBuildRefusedWhileTheCopyWaitedIsStillListedToReSendOnceItHasStarted() throws Exception {
        // The previous copy: its own class loader holds the store's lock (as a web application's does), and it takes
        // no hand-over (a version without it, or one whose store is closing).
        java.net.URL runner = org.buildhook.runner.store.StoreLock.class.getProtectionDomain().getCodeSource()
                .getLocation();
        java.net.URLClassLoader copy = new ChildFirst(runner, getClass().getClassLoader());
        Class<?> storeConfig = copy.loadClass(org.buildhook.runner.store.StoreConfig.class.getName());
        AutoCloseable held = (AutoCloseable) copy.loadClass(org.buildhook.runner.store.StoreLock.class.getName())
                .getMethod("acquire", storeConfig).invoke(null, storeConfig.getMethod("sqlite", Path.class)
                        .invoke(null, config.store().dataDir()));
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/buildhook");
        context.setAttribute(BuildhookListener.CONFIG_ATTRIBUTE, config);
        context.addEventListener(new BuildhookListener());
        ServletHolder servlet = new ServletHolder(new WebhookServlet());
        servlet.setAsyncSupported(true);
        context.addServlet(servlet, "/webhook");
        context.addServlet(servlet, "/webhook/*");
        server.setHandler(context);
        server.start();
        webhook = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/buildhook/webhook");

        var refused = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(74));
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        held.close();
        copy.close();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
                context.getServletContext().getAttribute(BuildhookApplication.ATTRIBUTE) != null);
        BuildhookApplication started =
                (BuildhookApplication) context.getServletContext().getAttribute(BuildhookApplication.ATTRIBUTE);

        assertThat(started.deliveries().refusedBuilds().view().builds()).singleElement()
                .satisfies(b -> assertThat(b.buildId()).isEqualTo(74));
        var resent = Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(74));
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(202);
        assertThat(started.deliveries().refusedBuilds().view().builds()).isEmpty();
        server.stop();
        server = null; // the listener closed the copy it started
    }

    /** Loads buildhook's runner classes itself (as a web application's class loader does), the rest from its parent. */
    private static final class ChildFirst extends java.net.URLClassLoader {
        ChildFirst(java.net.URL classes, ClassLoader parent) {
            super(new java.net.URL[] {classes}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                if (!name.startsWith("org.buildhook.runner.")) {
                    return super.loadClass(name, resolve);
                }
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    c = findClass(name);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }

    /**
     * A build the previous copy itself answered 503 through the hand-over (its store failed) is this copy's to list:
     * the previous copy's list goes with it. One the previous copy stored later (JobServ's retry) is off it again.
     */
    @Test
    void aBuildThePreviousCopyRefusedThroughTheHandOverIsListedHereUntilStored() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> kind = new java.util.concurrent.atomic.AtomicReference<>(
                "UNAVAILABLE");
        // The previous copy's answer, as DeliveryHandOver carries it (the injected failure: its store refused).
        serveWaitingCopy(() -> Optional.of(request -> {
            Map<String, Object> answer = new java.util.HashMap<>();
            answer.put("kind", kind.get());
            answer.put("delivery", kind.get().equals("UNAVAILABLE") ? null : "01JD8Q4B2C7N1E5V9W0X3Y6Z8K");
            answer.put("jobs", java.util.List.of());
            answer.put("detail", kind.get().equals("UNAVAILABLE") ? "storage unavailable" : null);
            return answer;
        }));

        assertThat(Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(75)).statusCode()).isEqualTo(503);
        assertThat(waiting.refusedBuilds().view().builds()).singleElement()
                .satisfies(b -> assertThat(b.buildId()).isEqualTo(75));

        kind.set("ACCEPTED");
        assertThat(Deliveries.postSigned(webhook, Deliveries.seedWithBuildId(75)).statusCode()).isEqualTo(202);
        assertThat(waiting.refusedBuilds().view().builds()).isEmpty();
    }
}
