package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout50 F8: a delivery's statement sent to PostgreSQL, which committed it, and the connection then broken before the
 * answer ({@code pg_ctl stop -m immediate} during a burst, a crash, a network cut) failed as any outage: the delivery
 * was answered 503 and logged "not stored … re-send this build", though it was stored and its jobs ran. Only a statement
 * not answered in time was known to be of unknown outcome. Now a connection lost after the statement was sent is too
 * ({@link StoreUnavailableException#outcomeUnknown}). The
 * real PostgreSQL behind a {@link PgFront} that forwards the statement whole and drops the answer, closing the
 * connection as it comes.
 */
class PostgresCommitAnswerLostTest {

    @TempDir
    Path dir;

    @Test
    void anAcceptWhoseConnectionBrokeAfterTheCommitIsOfUnknownOutcome() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url); Store store = Store.open(StoreConfig.of(front.url(url), dir))) {
            front.cutAnswerAt("INSERT INTO deliveries (");
            StoreUnavailableException lost = catchThrowableOfType(() -> store.accept(Plans.delivery(
                    "{\"build_id\": 5238}"), List.of(Plans.job("pgburst", List.of("/bin/true"), Map.of(), 0,
                    java.time.Duration.ZERO, 0))), StoreUnavailableException.class);

            assertThat(lost).as("an outage: answered 503").isNotNull();
            assertThat(front.cutAnswers()).as("the statement was sent, its answer dropped").isEqualTo(1);
            assertThat(StoreUnavailableException.outcomeUnknown(lost)).as(lost.toString()).isTrue();
            assertThat(StoreUnavailableException.unanswered(lost)).as("not a timeout").isFalse();
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT count(*) FROM deliveries WHERE outcome = 'ACCEPTED'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("committed, though its answer was lost").isEqualTo(1);
            }

        }
    }
}
