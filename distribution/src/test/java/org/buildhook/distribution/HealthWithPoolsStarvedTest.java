package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@code /healthz} of a node whose pools give no connection while its own does (tryout22 F3's residue: it
 * answered 200 "ok" four times in five while every webhook, the admin API and the status page got 503, the pools
 * timing out "Connection is not available … (total=0 …)"). A real {@code serve} on PostgreSQL behind a real proxy:
 * the sessions of the node's pools are ended (found by their application_name, which is the pool's name, among the
 * proxy's own sessions) and the proxy from then on swallows every new connection, while the session of the health
 * check, open before, goes on working. {@code /healthz} answers 503 naming the pool, and 200 again by itself once
 * the proxy forwards new connections again.
 */
class HealthWithPoolsStarvedTest extends AbstractProxiedServeTest {

    HealthWithPoolsStarvedTest() {
        super("starved_pools_");
    }

    @Test
    void healthzSaysUnavailableNamingThePoolWhileItGivesNoConnectionAndOkOnceItGivesOneAgain() throws Exception {
        Path out = dir.resolve("serve.out");
        Process server = serveQuickRule(out);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        assertThat(accepted(url)).as("accepted before").isTrue();
        // The health check's own session is opened by its first call.
        await().atMost(Duration.ofMinutes(1)).until(() -> healthz(url).statusCode() == 200);

        pg.proxy.swallowOnlyNewConnections();
        assertThat(endPoolSessions()).as("the pools' sessions ended").isPositive();

        // A delivery needs the store's pool: it waits store.connect-timeout and is refused. /healthz must say so.
        await().atMost(Duration.ofMinutes(2)).failFast(() -> !server.isAlive()).until(() -> !accepted(url)
                && healthz(url).statusCode() == 503);
        // And keeps saying so while the pool has none to give: before, a refused write made it 503 for a second,
        // then its own connection's probe write worked and it said 200 "ok" again (four times in five, in tryout22).
        await().during(Duration.ofSeconds(5)).atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
                .failFast(() -> !server.isAlive()).until(() -> healthz(url).statusCode() == 503);
        HttpResponse<String> unavailable = healthz(url);
        assertThat(unavailable.body()).as("/healthz names the pool").contains("\"status\":\"unavailable\"")
                .contains("the store gives this node no connection").contains("buildhook-store")
                .contains("see the server log");
        assertThat(unavailable.headers().firstValue("Retry-After")).isPresent();
        assertThat(Files.readString(out)).as("the log says it once, in the same words").contains(
                "the store gives this node no connection: connection pool buildhook-store gave no connection within"
                        + " store.connect-timeout (2s)");
        // Another delivery waits in vain too, and the jobs' pool's polls have, all through the hold: still one episode
        // each. Before (tryout25 F6), every such wait logged a false "connections again" INFO and a new WARN.
        assertThat(accepted(url)).as("a second delivery during the hang").isFalse();
        String duringTheHang = Files.readString(out);
        assertThat(duringTheHang).as("no connection was handed out yet").doesNotContain("gives this node connections again");
        for (String pool : List.of("buildhook-store", "buildhook-scheduler", "buildhook-node-id")) {
            assertThat(duringTheHang.split("connection pool " + pool + " gave no connection", -1))
                    .as("one WARN for %s's episode", pool).hasSizeLessThanOrEqualTo(2);
        }

        pg.proxy.thaw();

        // New connections are forwarded again: the pool makes one once its swallowed login ended (the URL's
        // loginTimeout, GENEROUS_LOGIN_SECONDS), and /healthz says ok by itself. (Meanwhile it
        // may say 200 "degraded" naming buildhook-scheduler, should the jobs' pool get its connection later than
        // the deliveries': deliveries are stored again then, tryout25 F2.)
        await().atMost(Duration.ofMinutes(5)).failFast(() -> !server.isAlive())
                .until(() -> healthz(url).body().contains("\"status\":\"ok\""));
        assertThat(healthz(url).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofMinutes(1)).until(() -> accepted(url));
    }

    /**
     * Ends the PostgreSQL sessions of the server's pools (application_name = the pool's name), only those made
     * through this test's proxy: other tests' servers on the same PostgreSQL are not touched. How many it ended.
     */
    private int endPoolSessions() throws Exception {
        Set<Integer> ports = pg.proxy.upstreamPorts();
        int ended = 0;
        try (Connection admin = DriverManager.getConnection(pg.url);
                PreparedStatement end = admin.prepareStatement("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name IN ('buildhook-store', 'buildhook-scheduler', 'buildhook-node-id')"
                        + " AND client_port = ANY (?)")) {
            end.setArray(1, admin.createArrayOf("integer", ports.toArray()));
            try (ResultSet rs = end.executeQuery()) {
                while (rs.next()) {
                    ended += rs.getBoolean(1) ? 1 : 0;
                }
            }
        }
        return ended;
    }
}
