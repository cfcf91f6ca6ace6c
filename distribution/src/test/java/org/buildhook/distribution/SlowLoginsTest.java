package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A {@code serve} on PostgreSQL whose logins are slow but work, as behind a PgBouncer that queues them or over a far
 * network: the proxy holds each new connection for a while before it forwards it (one at a time, as a pooler's
 * queue). Each hold is a floor on the login's time whatever the machine's speed, so the tests do not depend on it.
 * Before pglogin28, with every login slower than {@code store.connect-timeout}, the start always failed though
 * {@code store.url}'s {@code loginTimeout} allowed them (each pool's first connection was waited for only the key), and
 * with logins over 1 s the first {@code /healthz} after the start answered 503 (its pool made then, waiting 1 s).
 * Needs {@code BUILDHOOK_TEST_PG_URL}.
 */
class SlowLoginsTest extends AbstractProxiedServeTest {

    SlowLoginsTest() {
        super("slowlogin_");
    }

    /** Each new connection through the proxy is held {@code millis} before it is forwarded. */
    private void holdEachLogin(long millis) {
        holdEachLoginWhile(() -> true, millis);
    }

    /** Each new connection through the proxy accepted while {@code now} holds is held {@code millis} before it is forwarded. */
    private void holdEachLoginWhile(java.util.function.BooleanSupplier now, long millis) {
        pg.proxy.onAccept(n -> {
            if (now.getAsBoolean()) {
                try {
                    Thread.sleep(millis); // the slow login itself (a floor on its time), not a wait for an event
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
    }

    @Test
    void aStartWhoseLoginsTakeLongerThanTheKeyButWithinTheUrlsLoginTimeoutStartsAndIsHealthy() throws Exception {
        // Each login takes 2 s or more, the pools' wait is 1 s, the logins' own bound 60 s.
        assertStartsAndFirstHealthCheckIsOk(2_000, "url: '" + pg.storeUrlGenerousLogins + "', connect-timeout: 1s");
    }

    @Test
    void theFirstHealthCheckAfterAStartWithLoginsOverASecondDoesNotWaitForALogin() throws Exception {
        // Each login takes 1.5 s or more, within the pools' wait (5 s, the key's default); the health check waits 1 s
        // for a connection. The logins' own bound is 60 s: the proxy holds them one after another, as a pooler's queue,
        // and a login queued behind several others may take longer than the key on a loaded machine.
        assertStartsAndFirstHealthCheckIsOk(1_500, "url: '" + pg.storeUrlGenerousLogins + "', connect-timeout: 5s");
    }

    /** With each login held {@code holdMillis}, a server with {@code store} starts and its first /healthz is 200. */
    private void assertStartsAndFirstHealthCheckIsOk(long holdMillis, String store) throws Exception {
        holdEachLogin(holdMillis);
        Path out = dir.resolve("serve.out");
        Process serve = serveQuickRuleOn(out, store);

        java.net.URI url = ServeProcesses.awaitUrl(serve, dir.resolve("data"));

        var health = healthz(url);
        assertThat(health.statusCode()).as(health.body() + "\n" + log(out)).isEqualTo(200);
        assertThat(log(out)).doesNotContain("cannot start");
    }

    @Test
    void aStartWhosePoolsLoginsTakeLongerThanTheUrlsLoginTimeoutSaysWhichBoundToRaise() throws Exception {
        // The start's first login goes straight through; every connection made once it was made is held 150 s, past
        // the URL's 60-s bound. The bound is that long because it bounds the start's first login too, which a loaded CI
        // host (a new JVM's driver loading and SCRAM at a load average of 20 on 2 CPUs) has been seen to take over 2 s
        // for, and at a load average of 40 more than 15 s (ci-g, session 35: "The connection attempt failed"). Held
        // from the first login made (the proxy saw PostgreSQL's ReadyForQuery pass), not from the second connection:
        // a first login whose answer is slower than the start's read bound on it (store.connect-timeout + 5 s) is
        // tried again by pgJDBC on a new connection (sslmode=prefer, after a read timeout); that one, held as the
        // second connection, failed the first login too ("The connection attempt failed."), and the start ended with
        // another verdict than this one (ci47-e, at load 8).
        holdEachLoginWhile(() -> pg.proxy.loginsMade() > 0, 150_000);
        Path out = dir.resolve("serve.out");
        Process serve = serveQuickRuleOn(out, "url: '" + pg.storeUrl + "&loginTimeout=60', connect-timeout: 1s");

        assertThat(serve.waitFor(5, TimeUnit.MINUTES)).as("the refused start ends by itself").isTrue();
        String log = log(out);
        assertThat(serve.exitValue()).as(log).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(log.lines().filter(l -> l.startsWith("buildhook: cannot start: "))).as(log).singleElement().asString()
                .contains("the start's first login was made in ")
                .contains("but the pool buildhook-store made no connection within the loginTimeout in store.url (1m),"
                        + " which bounds each login")
                .contains("raise the loginTimeout in store.url")
                .doesNotContain("password");
    }

    private static String log(Path out) throws IOException {
        return Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
    }
}
