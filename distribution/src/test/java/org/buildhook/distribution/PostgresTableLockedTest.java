package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * tryout25 F1: another PostgreSQL session's {@code LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE} (what {@code
 * VACUUM FULL}, {@code ALTER TABLE}, {@code REINDEX TABLE}, {@code CLUSTER} take) made a delivery wait as long as
 * the lock was held (43 s, past JobServ's 30-s client timeout, no answer at all) while {@code /healthz} said 200
 * "ok". A real {@code serve} on PostgreSQL ({@code store.connect-timeout} 2 s), a real JDBC session holding the
 * lock: the delivery is answered 503 within a bound far below 30 s, {@code /healthz} says 503 naming the table,
 * the log says who holds it and how to find them, the status page (refused its reads too) says the same, not
 * hung; once the lock ends, 200 and 202 by themselves.
 */
class PostgresTableLockedTest extends AbstractProxiedServeTest {

    PostgresTableLockedTest() {
        super("table_locked_");
    }

    @Test
    void aDeliveryIsAnswered503AndHealthzSaysWhichTableWhileAnotherSessionLocksItAndAllRecoverAfter() throws Exception {
        Path out = dir.resolve("serve.out");
        Process server = serveQuickRule(out);
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        await().atMost(Duration.ofMinutes(1)).until(() -> healthz(url).statusCode() == 200);

        try (Connection other = DriverManager.getConnection(pg.url)) {
            other.setAutoCommit(false);
            try (Statement lock = other.createStatement()) {
                lock.execute("LOCK TABLE " + pg.schema + ".deliveries IN ACCESS EXCLUSIVE MODE");
            }

            StringWriter said = new StringWriter();
            long began = System.nanoTime();
            int exit = ServeProcesses.sendSample(url, dir, said);
            Duration took = Duration.ofNanos(System.nanoTime() - began);
            assertThat(exit).as("refused: %s", said).isNotZero();
            assertThat(said.toString()).as("answered 503").contains("503");
            // The sessions wait store.connect-timeout (2 s) for a lock; JobServ's client gives up at 30 s.
            assertThat(took).as("answered well before JobServ's client gives up").isLessThan(Duration.ofSeconds(25));

            HttpResponse<String> health = healthz(url);
            assertThat(health.statusCode()).as("/healthz while the table is locked: %s", health.body()).isEqualTo(503);
            assertThat(health.body()).contains("\"status\":\"unavailable\"")
                    .contains("the store cannot write: a table it needs is locked by another session: deliveries")
                    .contains("see the server log");
            assertThat(health.headers().firstValue("Retry-After")).isPresent();
            assertThat(Files.readString(out)).as("the log says who holds it and how to find them")
                    .contains("the store cannot write: a table it needs is locked by another session: table deliveries"
                            + " (AccessExclusiveLock, held by pid")
                    .contains("FROM pg_locks l JOIN pg_stat_activity a");
            for (String page : new String[] {"", "?part=live"}) {
                HttpResponse<String> answer = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                        .newBuilder(url.resolve(page)).timeout(Duration.ofSeconds(120))
                        .header("Authorization", "Bearer " + ServeProcesses.FOLLOW_TOKEN).build(),
                        HttpResponse.BodyHandlers.ofString());
                // Not hung: the page's reads are refused the lock too, and say why in the same words.
                assertThat(answer.statusCode()).as("status page %s", page).isEqualTo(503);
                assertThat(answer.body()).as("status page %s", page)
                        .containsIgnoringCase("the store cannot write: a table it needs is locked by another session");
            }
            other.rollback();
        }

        await().atMost(Duration.ofMinutes(1)).failFast(() -> !server.isAlive())
                .until(() -> healthz(url).statusCode() == 200);
        assertThat(healthz(url).body()).contains("\"status\":\"ok\"");
        StringWriter said = new StringWriter();
        assertThat(ServeProcesses.sendSample(url, dir, said)).as("accepted after: %s", said).isZero();
        assertThat(said.toString()).contains("202");
        await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(out)
                .contains("the store writes again: no table of it is locked by another session any more"));
    }
}
