package org.buildhook.distribution.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Twenty rounds of: start the server on the same data folder, let a sender post distinct signed
 * bodies, and once at least one was accepted SIGKILL the JVM at a random moment. Then one last
 * start drains the queue. Every delivery that was answered 202 (or, after a lost answer, 200 with
 * its id) must have its job run to completion at least once, and never twice at the same time.
 *
 * <p>Two storms: short jobs (0.2 s) sent as fast as the server answers, for the 202s; and jobs of
 * 0.1 to 6 s sent every 400 ms, so that most kills leave jobs running, whose processes outlive the
 * JVM until the server that starts again kills them, before it runs any job again.
 */
class Kill9ReliabilityIT {

    static final long SEED = 9_2026_11_29L;
    static final int ROUNDS = 20;
    /** 0.1 to 6.0 s, from the build id: {@code (id % 60 + 1) / 10} seconds. */
    static final String LONG_JOBS = "d=$(( BUILDHOOK_BUILD_ID % 60 + 1 ))\nsleep \"$(( d / 10 )).$(( d % 10 ))\"";

    @TempDir
    Path dir;

    @Test
    void everyAcceptedDeliveryRunsToCompletionAtLeastOnceAndNeverTwiceAtOnceAcrossTwentyKills() throws Exception {
        storm("kill9", "sleep 0.2", 4, 0);
    }

    @Test
    void jobsOfUpToSixSecondsNeverRunTwiceAtOnceAcrossTwentyKills() throws Exception {
        storm("kill9 (jobs of 0.1-6 s)", LONG_JOBS, 8, 400);
    }

    /**
     * @param pause     the job script's pause between its start and end lines
     * @param paceMillis pause of the sender after each accepted delivery (0: as fast as answered)
     */
    private void storm(String name, String pause, int threads, long paceMillis) throws Exception {
        Installation installation = Installation.unpack(dir, Installation.traceScriptCheckingOverlap(pause));
        // A job of 6 s started again by each new server is killed with it, round after round: by default, after 3
        // deaths in a row it would end FAILED (its command may be what kills the node: review20 R3). Here the
        // kills are the test's, not the job's, and every accepted job must complete.
        installation.config("runner:\n  threads: " + threads
                + "\n  shutdown-grace: 1s\n  heartbeat-interval: 1s\n  missed-heartbeats: 5\n  deaths-in-a-row: 1000");
        Random random = new Random(SEED);
        AtomicReference<String> base = new AtomicReference<>();
        Set<String> accepted = ConcurrentHashMap.newKeySet();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger failedSends = new AtomicInteger();
        Thread sender = new Thread(() -> {
            int n = 0;
            while (!stop.get()) {
                String url = base.get();
                try {
                    HttpResponse<String> answer = installation.postSigned(url, Installation.build(10_000 + n));
                    if (answer.statusCode() == 202 || answer.statusCode() == 200) {
                        accepted.add(Installation.deliveryId(answer.body()));
                        n++; // else retry the same body, as JobServ does
                        pause(paceMillis);
                    } else {
                        failedSends.incrementAndGet();
                    }
                } catch (IOException e) {
                    failedSends.incrementAndGet(); // server killed or not up yet: retry the same body
                    pause(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "kill9-sender");

        List<ServerProcess> servers = new ArrayList<>();
        ServerProcess server = installation.start();
        servers.add(server);
        base.set(server.base);
        sender.start();
        try {
            for (int round = 0; round < ROUNDS; round++) {
                int before = accepted.size();
                await().atMost(Duration.ofMinutes(1)).until(() -> accepted.size() > before);
                Thread.sleep(random.nextInt(1500)); // the random moment of the kill, not a synchronisation
                server.kill();
                server = installation.start();
                servers.add(server);
                base.set(server.base);
            }
            int before = accepted.size();
            await().atMost(Duration.ofMinutes(1)).until(() -> accepted.size() > before);
            stop.set(true);
            sender.join(60_000);

            // Jobs picked by a killed node are taken over after the missed-heartbeat limit
            // (5 x 1 s here); the bound is generous for a loaded machine.
            try {
                await().atMost(Duration.ofMinutes(8)).pollInterval(Duration.ofSeconds(2))
                        .until(() -> Trace.read(installation.trace).completed().containsAll(accepted));
            } catch (ConditionTimeoutException e) {
                throw new AssertionError(notDrained(installation, accepted, servers), e);
            }
        } finally {
            stop.set(true);
            server.close();
        }
        Trace trace = Trace.read(installation.trace);
        Set<String> lost = new HashSet<>(accepted);
        lost.removeAll(trace.completed());
        Set<String> unexpected = new HashSet<>(trace.started());
        unexpected.removeAll(accepted);
        Summary.report(name + ": " + ROUNDS + " rounds (seed " + SEED + "), " + accepted.size() + " accepted, "
                + accepted.stream().filter(trace.completed()::contains).count() + " completed, " + trace.reruns()
                + " re-run after kill, " + trace.concurrentlyRun().size() + " run twice at once, " + trace.reusedPids + " earlier pids found reused, " + lost.size()
                + " lost, " + unexpected.size() + " run without a 2xx seen by the sender, " + failedSends.get()
                + " sends retried");
        assertThat(lost).as("accepted deliveries whose job never completed").isEmpty();
        assertThat(trace.concurrentlyRun()).as("deliveries whose job ran twice at the same time; their trace lines:%s",
                trace.linesOf(trace.concurrentlyRun())).isEmpty();
    }

    /**
     * What a failure to drain needs to be understood: the deliveries not completed, their trace
     * lines, and what every server said about them (its warnings and errors too, and the last
     * server's last lines); the servers' logs are gone with the test's folder otherwise.
     */
    private static String notDrained(Installation installation, Set<String> accepted, List<ServerProcess> servers)
            throws IOException {
        Trace trace = Trace.read(installation.trace);
        Set<String> missing = new TreeSet<>(accepted);
        missing.removeAll(trace.completed());
        StringBuilder out = new StringBuilder("accepted deliveries not completed within 8 minutes: " + missing
                + "\ntheir trace lines:" + trace.linesOf(missing));
        // The store as the last server left it (read while it runs: SQLite lets a reader in).
        Set<String> jobIds = new TreeSet<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + installation.work.resolve("data/buildhook.db"));
             PreparedStatement p = c.prepareStatement("SELECT j.delivery_id, j.id, j.state, j.attempts, s.picked,"
                     + " s.picked_by, s.version, s.execution_time, s.last_heartbeat FROM jobs j LEFT JOIN scheduled_tasks s"
                     + " ON s.task_instance = j.id WHERE j.delivery_id = ?")) {
            for (String delivery : missing) {
                p.setString(1, delivery);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        jobIds.add(rs.getString(2));
                        out.append("\n  job ");
                        for (int column = 1; column <= 9; column++) {
                            out.append(column == 1 ? "" : " ").append(rs.getString(column));
                        }
                    }
                }
            }
        } catch (SQLException e) {
            out.append("\n  (the store could not be read: ").append(e.getMessage()).append(')');
        }
        missing.addAll(jobIds);
        for (int i = 0; i < servers.size(); i++) {
            List<String> lines;
            synchronized (servers.get(i).output) {
                lines = new ArrayList<>(servers.get(i).output);
            }
            out.append("\nserver ").append(i).append(" (").append(lines.size()).append(" lines), its lines about them"
                    + " and its warnings and errors:");
            int shown = 0;
            for (String line : lines) {
                if ((missing.stream().anyMatch(line::contains) || line.contains(" WARN ") || line.contains(" ERROR "))
                        && shown++ < 200) {
                    out.append("\n  ").append(line);
                }
            }
            if (i == servers.size() - 1) {
                out.append("\nthe last server's threads:\n").append(threadDump(servers.get(i).process));
                out.append("\nthe last server's last lines:");
                lines.subList(Math.max(0, lines.size() - 80), lines.size()).forEach(l -> out.append("\n  ").append(l));
            }
        }
        return out.toString();
    }

    /** {@code jcmd <pid> Thread.print} of a live server, or why there is none. */
    private static String threadDump(Process server) {
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    Long.toString(server.pid()), "Thread.print").redirectErrorStream(true).start();
            String dump = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            jcmd.waitFor();
            return dump;
        } catch (IOException e) {
            return "(no thread dump: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(no thread dump: interrupted)";
        }
    }

    private static void pause(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis); // back-off between retries of a refused connection
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
