package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A {@code serve} on PostgreSQL whose first login is starved of CPU, as on a heavily loaded host (a new JVM's first
 * login costs it 0.3-0.5 s of its own CPU; under {@code stress-ng --cpu 4} on two CPUs it took 2-12 s, past the
 * default {@code store.connect-timeout} of 5 s): the start failed, saying that PostgreSQL or the network answered
 * too slowly (pglogin27). The starvation is made deterministic with a cgroup (v1) CPU quota of 1 % (1 ms in each
 * 100 ms) put on the server from its first connection through the proxy: the login cannot get the CPU it needs
 * within the key's 2 s on any machine, and the quota is lifted once the first attempt has run out. Needs root's
 * {@code /sys/fs/cgroup/cpu} (skipped without it) and {@code BUILDHOOK_TEST_PG_URL}.
 */
class FirstLoginStarvedTest extends AbstractProxiedServeTest {

    private CpuQuotaCgroup cgroup;

    FirstLoginStarvedTest() {
        super("firstlogin_");
    }

    @AfterEach
    void removeCgroup() throws Exception {
        if (cgroup == null) {
            return;
        }
        cgroup.quota(-1);
        if (processes != null) {
            processes.close();
        }
        cgroup.close();
    }

    private void quota(long micros) {
        cgroup.quota(micros);
    }

    /**
     * Starts the server in a cgroup of its own, starved (1 % of a CPU) from its first connection through the proxy on;
     * the key's own bound on the login ({@code pg.storeUrl}): that is what the starvation ran out, before.
     */
    private Process serveStarvedFromItsFirstLogin(Path out) throws IOException {
        cgroup = CpuQuotaCgroup.create();
        pg.proxy.onAccept(n -> {
            if (n == 1) {
                quota(1000);
            }
        });
        Process serve = serveQuickRuleOn(out, "url: '" + pg.storeUrl + "', connect-timeout: 2s");
        cgroup.add(serve.pid());
        return serve;
    }

    @Test
    void aStartWhoseFirstLoginTheHostStarvesTriesOnceMoreAndSaysWhereTheTimeWent() throws Exception {
        Path out = dir.resolve("serve.out");
        Process serve = serveStarvedFromItsFirstLogin(out);

        // Each wait is a bound for a hung test only: with 1 % of a CPU the server needs seconds for a log line.
        await().atMost(Duration.ofMinutes(5)).until(() -> !serve.isAlive() || log(out).contains("Trying once more"));
        quota(-1);
        ServeProcesses.awaitUrl(serve, dir.resolve("data"));

        String log = log(out);
        assertThat(log).contains("the PostgreSQL store's first connection was neither made nor refused within"
                        + " store.connect-timeout (2s), and this host held this process back meanwhile: this process got")
                .containsPattern("its CPU quota held it back for [0-9.]+ s")
                .doesNotContain("cannot start");
    }

    @Test
    void aStartStarvedThroughBothAttemptsSaysTheHostHeldItBackNotThatPostgresAnsweredTooSlowly() throws Exception {
        Path out = dir.resolve("serve.out");
        Process serve = serveStarvedFromItsFirstLogin(out);

        assertThat(serve.waitFor(5, java.util.concurrent.TimeUnit.MINUTES)).as("the refused start ends by itself").isTrue();
        String log = log(out);
        assertThat(serve.exitValue()).as(log).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(log.lines().filter(l -> l.startsWith("buildhook: cannot start: "))).as(log).singleElement().asString()
                .contains("no connection was made within store.connect-timeout (2s), in either of 2 attempts, and none"
                        + " was refused (this process got ")
                .containsPattern("its CPU quota held it back for [0-9.]+ s")
                .contains("This host held this process back (it is overloaded, or this process's CPU quota is too"
                        + " small): the time went on this host, not necessarily on PostgreSQL or the network")
                .doesNotContain("it or the network answered too slowly");
    }

    private static String log(Path out) throws IOException {
        return Files.exists(out) ? Files.readString(out, StandardCharsets.UTF_8) : "";
    }
}
