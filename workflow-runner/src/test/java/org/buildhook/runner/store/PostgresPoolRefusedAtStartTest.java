package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A PostgreSQL store whose first login at the start is made, and whose pools' logins are then refused (a server, or a
 * pooler in front of it, out of connections: {@code 53300}). The start waits for each pool's first connection up to
 * the logins' bound (pglogin28); a refusal is no slow login: the start ends as it did before that wait, after {@code
 * store.connect-timeout}, with the server's reason (review29). It said "the pool … made no connection within
 * store.connect-timeout (2s), which bounds each login … raise …", the wrong cause, and with {@code loginTimeout=0} in
 * {@code store.url} (no bound on a login) it waited for ever. The refusing server is a {@link PgFront} before the test's
 * PostgreSQL, which is not touched.
 */
class PostgresPoolRefusedAtStartTest {

    private static final String TOO_MANY = "sorry, too many clients already";

    @TempDir
    Path dir;

    @Test
    void aPoolWhoseLoginsAreRefusedEndsTheStartWithTheServersReasonNotAsTooSlow() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.refuseNewConnectionsAfter(1, "53300", TOO_MANY);
            StoreConfig config = StoreConfig.of(front.url(url), dir).withConnectTimeout(Duration.ofSeconds(2));
            assertThatThrownBy(() -> Store.open(config)).isInstanceOf(StoreUnavailableException.class)
                    .hasMessageContaining(TOO_MANY)
                    .hasMessageNotContaining("which bounds each login")
                    .hasMessageNotContaining("raise")
                    // Named as the connection limit, not the URL, user or password that let the first login in
                    // (tryout29 F2).
                    .hasMessageContaining("; " + Store.OUT_OF_CONNECTIONS).hasMessageNotContaining("store.password");
            assertThat(front.refused()).as("the pool's logins were refused, the first forwarded").isPositive();
        }
    }

    /** 2 min: a bound for a hung start only, 60 times the connection wait configured. */
    @Test
    void withNoBoundOnALoginARefusedPoolStillEndsTheStart() throws Exception {
        String url = TestStores.postgresUrl();
        try (PgFront front = PgFront.to(url)) {
            front.refuseNewConnectionsAfter(1, "53300", TOO_MANY);
            StoreConfig config = StoreConfig.of(front.url(url) + "&loginTimeout=0", dir)
                    .withConnectTimeout(Duration.ofSeconds(2));
            assertTimeoutPreemptively(Duration.ofMinutes(2), () -> assertThatThrownBy(() -> Store.open(config))
                    .isInstanceOf(StoreUnavailableException.class).hasMessageContaining(TOO_MANY));
        }
    }
}
