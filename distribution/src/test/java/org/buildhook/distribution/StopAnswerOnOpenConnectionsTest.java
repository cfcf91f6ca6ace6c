package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The last moment of a graceful stop (tryout38 F5): after buildhook's drain, Jetty's own stop waits for the
 * requests in flight and refuses every new request on a connection still open. That refusal was Jetty's plain 503,
 * rendered "internal error; the server log has the details", without {@code Retry-After}, logged nowhere, and
 * {@code buildhook logs -f} exited with it. Now it is the stop's 503 with {@code Retry-After}, a refused delivery
 * is logged, and the command says the server was stopped or is restarting. Real Jetty, real HTTP on kept-alive
 * connections; the stop is held at that point by a request in flight that the test releases.
 *
 * <p>Each client's connection to the server is kept by a {@link KeptConnectionProxy} of its own, as a reverse proxy
 * keeps one, and Jetty's stop leaves them open: on a loaded machine the requests before the stop and those after it
 * were many seconds apart, the test JVM's HttpClient closed its connections idle for 5 s and opened new ones, which the
 * stopping server refused (flaky40 F1: a {@code ConnectException}, or the command's "now refuses connections",
 * instead of the stop's 503).
 */
class StopAnswerOnOpenConnectionsTest {

    static final Duration UPPER_BOUND = Duration.ofMinutes(2);

    @TempDir
    Path dir;

    /** A request in flight that holds Jetty's graceful stop until released. */
    static final class HoldServlet extends HttpServlet {
        private static final long serialVersionUID = 1L;
        final transient CountDownLatch entered = new CountDownLatch(1);
        final transient CountDownLatch release = new CountDownLatch(1);

        @Override
        protected void doGet(HttpServletRequest request, HttpServletResponse response) {
            entered.countDown();
            try {
                release.await(5, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            response.setStatus(204);
        }
    }

    @Test
    void requestsOnOpenConnectionsInTheStopsLastMomentGetTheStopsAnswerNeverAnInternalError() throws Exception {
        Files.writeString(dir.resolve("rules.yaml"), "rules: []\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {default: {secrets: [{value: " + DrainingServerTest.SECRET + "}]}}",
                "admin: {token: {value: " + DrainingServerTest.TOKEN + "}}",
                "http: {retry-after: 7s}",
                "server: {host: 127.0.0.1, port: 0, stop-timeout: 10m, idle-timeout: 10m}",
                ""));
        BuildhookConfig loaded = new ConfigLoader(Map.of(), dir).load(config);
        HoldServlet hold = new HoldServlet();
        // Each client keeps one connection open (HTTP/1.1 keep-alive), as 'buildhook logs -f' and JobServ's do: its
        // proxy's, opened at its first request, whatever the client does with its own idle connection meanwhile.
        HttpClient polling = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpClient sender = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpClient holder = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpClient prober = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

        try (ApplicationLog log = new ApplicationLog(StopRefusingHandler.class.getName());
                BuildhookServer server = BuildhookServer.create(loaded.server(), c -> {
                    ServeCommand.install(c, loaded);
                    c.addServlet(new ServletHolder(hold), "/hold");
                });
                KeptConnectionProxy toAdmin = new KeptConnectionProxy(server::port);
                KeptConnectionProxy toPolling = new KeptConnectionProxy(server::port);
                KeptConnectionProxy toSender = new KeptConnectionProxy(server::port);
                KeptConnectionProxy toProber = new KeptConnectionProxy(server::port);
                // Closed before the server: a failed assertion does not leave its stop waiting for the held request.
                AutoCloseable released = hold.release::countDown) {
            server.start();
            URI base = server.uri();
            URI pollingBase = toPolling.url(base);
            URI senderBase = toSender.url(base);
            URI proberBase = toProber.url(base);
            AdminClient admin = new AdminClient(toAdmin.url(base), DrainingServerTest.TOKEN);
            admin.get("jobs");
            assertThat(jobs(polling, pollingBase).statusCode()).isEqualTo(200);
            assertThat(DrainingServerTest.send(sender, senderBase, "build-67-passed.json").statusCode())
                    .isEqualTo(202);
            assertThat(probe(prober, proberBase).statusCode()).as("not a POST").isEqualTo(405);

            Thread held = new Thread(() -> {
                try {
                    holder.send(HttpRequest.newBuilder(base.resolve("hold")).build(),
                            HttpResponse.BodyHandlers.discarding());
                } catch (Exception e) {
                    // the assertions below say what went wrong
                }
            }, "stop-answer-test-hold");
            held.start();
            assertThat(hold.entered.await(UPPER_BOUND.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
            // Jetty closes a connection idle for a second once its stop began: here its stop leaves the connections'
            // idle timeout as it is (server.idle-timeout, 10m), so that each client's next request, sent once Jetty
            // refuses requests, comes on its open connection however long ago its last one was.
            ((AbstractConnector) server.jetty().getConnectors()[0]).setShutdownIdleTimeout(-1);
            GracefulHandler graceful = server.jetty().getDescendant(GracefulHandler.class);
            Thread stopping = new Thread(server::drainThenStop, "stop-answer-test-stop");
            stopping.start();
            // After the drain, Jetty's own stop waits for the held request and refuses every new one.
            await().atMost(UPPER_BOUND).until(graceful::isShutdown);

            assertStopsAnswer(jobs(polling, pollingBase));

            HttpResponse<String> delivery = DrainingServerTest.send(sender, senderBase, "build-68-failed.json");
            assertStopsAnswer(delivery);
            // review39: a GET of /webhook (a probe, a scanner) is no delivery: refused as any request, not logged as one.
            assertStopsAnswer(probe(prober, proberBase));
            assertThat(log.warnings()).as("the refused delivery is logged, once").hasSize(1);
            assertThat(log.warnings().get(0)).contains("delivery POST /webhook from 127.0.0.1",
                    "answered 503 with Retry-After: 7 (the server is stopping)", "not read and not stored")
                    .doesNotContain(DrainingServerTest.SECRET);

            assertThatThrownBy(() -> admin.get("jobs")).isInstanceOfSatisfying(CommandFailure.class, e -> {
                assertThat(e.getMessage()).contains("answered this command before and now says it is stopping (503):"
                        + " it was stopped or is restarting").doesNotContain("internal error");
                assertThat(e.exitCode()).isEqualTo(ExitCodes.UNAVAILABLE);
            });

            hold.release.countDown();
            stopping.join(UPPER_BOUND.toMillis());
            held.join(UPPER_BOUND.toMillis());
            assertThat(stopping.isAlive()).isFalse();
        }
    }

    private static void assertStopsAnswer(HttpResponse<String> answer) {
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(503);
        assertThat(answer.body()).contains("\"error\":\"the server is stopping (graceful stop)", "\"stopping\":true")
                .doesNotContain("internal error");
        assertThat(answer.headers().firstValue("Retry-After")).hasValue("7");
        assertThat(answer.headers().allValues("Connection")).isEqualTo(List.of("close"));
    }

    private static HttpResponse<String> probe(HttpClient http, URI base) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("webhook")).timeout(Duration.ofSeconds(60)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> jobs(HttpClient http, URI base) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve("api/jobs")).timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + DrainingServerTest.TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
