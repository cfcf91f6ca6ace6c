package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildEventParser;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.NewDelivery;
import org.buildhook.runner.store.Plans;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;

/**
 * A runner node in its own JVM, for the crash and cluster tests: opens the store, starts the
 * engine with fast failure detection, optionally accepts deliveries, then runs until its standard
 * input closes (graceful stop) or it is killed.
 *
 * <p>Arguments: {@code key=value}: url, data, node, threads, slow (count), quick (count),
 * slowScript, quickScript, retryScript (one job with 1 retry, due an hour after a failed attempt, or retryBackoff ms
 * after it), label (prefix of the job labels), concurrency (of the slow rule), heartbeat (ms,
 * default 1000), missed (heartbeats missed before the node is taken for dead, default 20), rules (a rules
 * file) with builds (comma-separated build ids: each delivered as the JobServ fixture with that
 * {@code build_id}, matched against the rules and stored with its jobs, as the servlet does), killGrace
 * (seconds), slotRetry (seconds, {@code runner.slot-retry}; default 100 ms), watchdog ({@code on}: the
 * node's watchdog process, as {@code runner.watchdog: auto} on PostgreSQL; default off, so that the
 * crash tests see what other nodes do about a dead node's leftovers, as when its watchdog died with it), stops
 * ({@code runner.stops-in-a-row}), sigterm ({@code stop}: SIGTERM stops the engine gracefully, as {@code buildhook
 * serve} does; default: the JVM just exits), afterStop ({@code stay}: once its input ends and its engine and store
 * are stopped, the JVM prints STOPPED and runs on until killed, as a servlet container that undeployed buildhook),
 * debug (a logger's name: set to DEBUG; {@code org.buildhook.runner.exec.Watchdog} makes the watchdog write each
 * attempt's first process it is told).
 */
public final class EngineNode {

    /** The slow rule's {@code concurrency} (argument concurrency, default 0: no limit). */
    private static int slowConcurrency;

    private EngineNode() {
    }

    /**
     * {@code url} with PostgreSQL's {@code idle_in_transaction_session_timeout} of 30 s for its sessions (unless it
     * names one): the bound buildhook gives them with the default {@code store.connect-timeout} (six times it, at least
     * 30 s: Database). This node's connect timeout is 2 minutes (below), which would make the bound 12 minutes: a node
     * a test pauses (SIGSTOP) while it is inside a transaction then held its row locks for 12 minutes, and the node
     * beside it, waiting for them, did not take the job over within the test's 5 minutes (ci-c, ci-a: stressed runs
     * of PostgresWorkflowCrashTest, where the pause lands inside a transaction more often).
     */
    static String withIdleInTransactionBound(String url) {
        if (url == null || !url.startsWith("jdbc:postgresql:") || url.contains("idle_in_transaction_session_timeout")) {
            return url;
        }
        return url + (url.contains("?") ? "&" : "?") + "options=-c%20idle_in_transaction_session_timeout%3D30000";
    }

    public static void main(String[] args) throws IOException {
        Map<String, String> a = new HashMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            a.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        if (a.containsKey("debug")) {
            ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(a.get("debug")))
                    .setLevel(ch.qos.logback.classic.Level.DEBUG);
        }
        Path data = Path.of(a.get("data"));
        StoreConfig defaults = StoreConfig.of(withIdleInTransactionBound(a.get("url")), data);
        // Connecting waits up to 2 minutes, not the default 5 s: on a loaded 2-core machine a new JVM
        // and PostgreSQL's new backend can take longer than that, and then the node died at start.
        Store store = Store.open(new StoreConfig(defaults.url(), data, defaults.dedupWindow(), defaults.retention(),
                Duration.ZERO, defaults.retentionBatch(), defaults.poolSize(), Duration.ofMinutes(2), defaults.clock()));
        // A node is taken for dead after 20 missed heartbeats of 1 s (unless heartbeat=<ms> and
        // missed=<n> say otherwise). Not less: a live node that cannot write a heartbeat for half that
        // time kills its own jobs (self-fencing), and then they run again. With 6 × 500 ms, nodes of a
        // 2-core machine at load 40 did so after 1.5 s without a heartbeat, and the cluster test saw
        // quick jobs run twice.
        EngineConfig config = new EngineConfig(a.get("node"), Integer.parseInt(a.getOrDefault("threads", "2")),
                Duration.ofMillis(250), Duration.ofMillis(Long.parseLong(a.getOrDefault("heartbeat", "1000"))),
                Integer.parseInt(a.getOrDefault("missed", "20")),
                // grace=<seconds>: a long one keeps a test's kill -9 during a stop inside its grace however slow the machine.
                Duration.ofSeconds(Long.parseLong(a.getOrDefault("grace", "5"))), Duration.ofMillis(100),
                Duration.ofMillis(200));
        config = config.withWatchdog("on".equals(a.get("watchdog")));
        if (a.containsKey("stops")) {
            // stops=<n>: runner.stops-in-a-row, so that a test ends a job after a few stops instead of 10.
            config = config.withStopsInARow(Integer.parseInt(a.get("stops")));
        }
        if (a.containsKey("slotRetry")) {
            // slotRetry=<seconds>: a long one makes a job that nobody wakes for a free slot one that does not start.
            config = config.withSlotRetryDelay(Duration.ofSeconds(Long.parseLong(a.get("slotRetry"))));
        }
        LauncherConfig launching = LauncherConfig.defaults(data.resolve("logs"));
        if (a.containsKey("killGrace")) {
            // killGrace=<seconds>: a long one keeps a test's kill -9 inside the grace period however slow the machine.
            launching = launching.withKillGrace(Duration.ofSeconds(Long.parseLong(a.get("killGrace"))));
        }
        CommonsExecLauncher launcher = CommonsExecLauncher.create(launching);
        JobEngine engine = JobEngine.create(store, launcher, config);
        if ("stop".equals(a.get("sigterm"))) {
            // sigterm=stop: SIGTERM stops the node gracefully, as buildhook serve's shutdown hook does (a job's command
            // that kills its own server); before the start, which may run such a job at once.
            Runtime.getRuntime().addShutdownHook(new Thread(engine::stop, "engine-node-sigterm"));
        }
        engine.start();
        System.out.println("READY");
        String label = a.getOrDefault("label", a.get("node"));
        slowConcurrency = Integer.parseInt(a.getOrDefault("concurrency", "0"));
        accept(store, a.get("slowScript"), label + "-slow-", Integer.parseInt(a.getOrDefault("slow", "0")));
        accept(store, a.get("quickScript"), label + "-quick-", Integer.parseInt(a.getOrDefault("quick", "0")));
        if (a.containsKey("retryScript")) {
            // retryScript=<script>: one job whose attempt 1 runs it and whose one retry is due an hour later
            // (retryBackoff=<ms>: that long later instead).
            store.accept(new NewDelivery("default", Instant.now(), "127.0.0.1", Map.of(),
                    ("{\"label\": \"" + label + "-retry\"}").getBytes(StandardCharsets.UTF_8)),
                    List.of(new PlannedJob("retry", "name: retry", List.of("/bin/sh", a.get("retryScript"),
                            label + "-retry"), Map.of(), null, false, Duration.ofMinutes(30), 1,
                            Duration.ofMillis(Long.parseLong(a.getOrDefault("retryBackoff", "3600000"))),
                            0, null)));
        }
        if (a.containsKey("rules")) {
            deliver(store, Path.of(a.get("rules")), a.getOrDefault("builds", ""));
        }
        System.out.println("ACCEPTED");
        System.out.flush();
        // Runs until the test closes our stdin (graceful) or kills us.
        while (System.in.read() >= 0) {
            // keep reading
        }
        engine.stop();
        launcher.close();
        store.close();
        if ("stay".equals(a.get("afterStop"))) {
            // afterStop=stay: the JVM goes on running once its engine and store are stopped, as a servlet container
            // does after it undeployed buildhook; until it is killed.
            System.out.println("STOPPED");
            System.out.flush();
            try {
                new java.util.concurrent.CountDownLatch(1).await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void deliver(Store store, Path rulesFile, String builds) throws IOException {
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(rulesFile, Files.readString(rulesFile));
        for (String build : builds.split(",")) {
            if (build.isBlank()) {
                continue;
            }
            byte[] body = Plans.fixture().replace("\"build_id\": 67", "\"build_id\": " + build.trim())
                    .getBytes(StandardCharsets.UTF_8);
            BuildEvent event = new BuildEventParser().parse(body);
            store.accept(Plans.delivery("default", new String(body, StandardCharsets.UTF_8), Instant.now()),
                    DeliverySummary.of(event), rules.match("default", event));
        }
    }

    private static void accept(Store store, String script, String prefix, int count) {
        for (int i = 0; i < count; i++) {
            String label = prefix + i;
            // Each accepted in a later millisecond than the one before: then their queue order (by due time,
            // stored to the millisecond) is the order of their labels, which the order tests rely on.
            long before = System.currentTimeMillis();
            while (System.currentTimeMillis() == before) {
                Thread.onSpinWait();
            }
            String rule = prefix.contains("slow") ? "slow" : "quick";
            NewDelivery delivery = new NewDelivery("default", Instant.now(), "127.0.0.1", Map.of(),
                    ("{\"label\": \"" + label + "\"}").getBytes(StandardCharsets.UTF_8));
            store.accept(delivery, List.of(rule.equals("slow") ? slowJob(script, label)
                    : Plans.job(rule, List.of("/bin/sh", script, label))));
        }
    }

    /**
     * A slow job waits for an event of its test (a marker file), not for a time: its timeout is an
     * upper bound that only a hung test reaches, however slow a loaded machine is (with the 30 s of
     * {@link Plans#job}, slow jobs ran out while a loaded machine still ran the 1,000 quick ones).
     */
    private static PlannedJob slowJob(String script, String label) {
        return new PlannedJob("slow", "name: slow", List.of("/bin/sh", script, label), Map.of(), null, false,
                Duration.ofMinutes(30), 0, Duration.ofMillis(100), slowConcurrency, null);
    }
}
