package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * review57b F2 with two real node JVMs on PostgreSQL: node0 (one job thread) runs job slow-0 of rule {@code slow}
 * (no concurrency limit) and has slow-1 queued behind it. A reload gives the rule {@code concurrency: 1}
 * ({@code ExecutionLedger.applyLimits}, as BuildhookApplication's reload listener calls it); while it gives the jobs
 * the limit one by one (held open here by a session holding slow-0's row), node1 started, picked slow-1 and ran its
 * command beside slow-0's (two commands of a {@code concurrency: 1} rule at once). rules.md: "the jobs of the rule already running without one count against it: each is
 * given a slot, so no job starts until fewer than the new limit run".
 */
class LimitSetWhileRunningNodesTest {

    @TempDir
    Path dir;

    @Test
    void aJobOfTheRuleDoesNotStartOnAnotherNodeWhileTheRunningOneIsGivenTheNewLimit() throws Exception {
        StoreConfig config = TestStores.postgres(dir.resolve("data"))
                .withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO);
        Path events = dir.resolve("events");
        Path go = dir.resolve("go");
        Path script = NodeProcess.slowScript(dir, events, go);
        List<NodeProcess> nodes = new ArrayList<>();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (Store store = Store.open(config)) {
            nodes.add(NodeProcess.start(dir, "node0", "url=" + config.url(), "data=" + dir.resolve("data0"),
                    "threads=1", "slow=2", "slowScript=" + script, "label=n0"));
            await().atMost(Duration.ofMinutes(5)).until(() -> nodes.get(0).printed("ACCEPTED") && Files.exists(events)
                    && Files.readAllLines(events).stream().anyMatch(l -> l.startsWith("start n0-slow-0 ")));
            String running = jobOf(store, config, "n0-slow-0");
            String queued = jobOf(store, config, "n0-slow-1");
            assertThat(Files.readAllLines(events)).as("slow-1 waits for node0's one thread").hasSize(1);

            try (Connection other = DriverManager.getConnection(config.url())) {
                other.setAutoCommit(false);
                try (PreparedStatement p = other.prepareStatement("SELECT id FROM jobs WHERE id = ? FOR UPDATE")) {
                    p.setString(1, running);
                    p.executeQuery().close();
                }
                Future<Integer> reload = pool.submit(() -> store.ledger().applyLimits(Map.of("slow", 1)));
                await().atMost(Duration.ofSeconds(60)).until(
                        () -> store.job(queued).orElseThrow().job().concurrency() == 1);

                nodes.add(NodeProcess.start(dir, "node1", "url=" + config.url(), "data=" + dir.resolve("data1"),
                        "threads=1", "label=n1"));
                // Either node1 runs slow-1 beside slow-0 (the hole), or it is refused the slot, which slow-1's message
                // says (tryAcquireSlot writes the wait in the transaction that refuses it).
                await().atMost(Duration.ofMinutes(2)).until(() -> Files.readAllLines(events).stream()
                        .anyMatch(l -> l.startsWith("start n0-slow-1 ")) || String.valueOf(store.job(queued)
                                .orElseThrow().job().message()).contains("waiting for a concurrency slot"));
                List<String> lines = Files.readAllLines(events);
                boolean beside = lines.stream().anyMatch(l -> l.startsWith("start n0-slow-1 "));
                other.commit();
                // The store's lock_timeout (5 s) may end the change at slow-0's row, held here for longer: the reload
                // fails (the application WARNs of it), and the limit is in force all the same, with slow-0's slot.
                try {
                    reload.get(60, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    assertThat(e.getCause()).isInstanceOf(org.buildhook.runner.store.StoreUnavailableException.class);
                }
                assertThat(beside).as("slow-1's command started while slow-0's ran (no end line yet): %s", lines)
                        .isFalse();
                assertThat(slots(config)).as("slow-0's slot, given with the limit").hasSize(1)
                        .allMatch(s -> s.contains(running));
            }
        } finally {
            Files.createFile(go);
            pool.shutdownNow();
            for (NodeProcess n : nodes) {
                n.kill();
            }
        }
    }

    private static String jobOf(Store store, StoreConfig config, String label) throws Exception {
        try (Connection c = DriverManager.getConnection(config.url()); PreparedStatement p = c.prepareStatement(
                "SELECT j.id FROM jobs j JOIN deliveries d ON d.id = j.delivery_id WHERE convert_from(d.body, 'UTF8')"
                        + " LIKE ?")) {
            p.setString(1, "%\"" + label + "\"%");
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).as("the job of %s", label).isTrue();
                return rs.getString(1);
            }
        }
    }

    private static List<String> slots(StoreConfig config) throws Exception {
        List<String> slots = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(config.url()); PreparedStatement p = c.prepareStatement(
                "SELECT slot, job_id, node FROM rule_slots ORDER BY slot"); ResultSet rs = p.executeQuery()) {
            while (rs.next()) {
                slots.add(rs.getInt(1) + ":" + rs.getString(2) + "@" + rs.getString(3));
            }
        }
        return slots;
    }
}
