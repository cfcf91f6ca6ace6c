package org.buildhook.runner.engine;

import java.time.Duration;
import java.util.Objects;

/**
 * How the execution engine runs jobs on this node.
 *
 * @param nodeId            this node's name in the store and in db-scheduler (at most 50 characters;
 *                          default {@code <hostname>-<pid>})
 * @param threads           jobs run at once on this node: the global per-node limit (default 4)
 * @param pollingInterval   how often the node looks for due jobs besides being woken (default 5 s)
 * @param heartbeatInterval how often a running job's node proves it is alive (default 30 s)
 * @param missedHeartbeats  heartbeats missed before a job's node is taken for dead and the job runs
 *                          elsewhere (default 6, so 3 minutes)
 * @param shutdownGrace     how long a graceful stop lets running jobs finish before killing them (default 30 s)
 * @param slotRetryDelay    when a rule's concurrency is used up, how long before trying again (default 2 s); one
 *                          shorter than {@link #LEAST_SLOT_RETRY} is taken as that
 * @param cancelCheck       how often a running job's cancel flag is read (default 2 s)
 * @param watchdog          whether the node starts its watchdog process where another node may take its
 *                          jobs over (PostgreSQL): {@code runner.watchdog: auto} (the default) or {@code off}
 * @param deathsInARow      how many attempts in a row cut short by their node's death make a job end {@code FAILED}
 *                          instead of running again ({@code runner.deaths-in-a-row}, 1 to 1000, default
 *                          {@link org.buildhook.runner.store.ExecutionLedger#DEATHS_IN_A_ROW}: review20 R3)
 * @param stopsInARow       how many attempts in a row cut short by their node's graceful stop (or its death, at least
 *                          one of them a stop) make a job end {@code FAILED} instead of running again
 *                          ({@code runner.stops-in-a-row}, 1 to 1000, default
 *                          {@link org.buildhook.runner.store.ExecutionLedger#STOPS_IN_A_ROW}: a command that stops or
 *                          restarts its own server, review21 R2)
 * @param statusPage        the address people open the status page at ({@code admin.public-url}), with a path that
 *                          ends in {@code /}, of which a follow-up's {@code ${job.url}} is made
 *                          ({@link #jobPage}); {@code null} when none is configured (tryout47b F18)
 */
public record EngineConfig(
        String nodeId,
        int threads,
        Duration pollingInterval,
        Duration heartbeatInterval,
        int missedHeartbeats,
        Duration shutdownGrace,
        Duration slotRetryDelay,
        Duration cancelCheck,
        boolean watchdog,
        int deathsInARow,
        int stopsInARow,
        java.net.URI statusPage) {

    /**
     * The shortest {@link #slotRetryDelay} used; a shorter one is raised to it ({@code runner.slot-retry}, whose
     * range starts at 1 ms, warns so at its file:line:column). A job refused its slot or units is put back for its
     * next try after the delay, and its thread, free again, picks at once ({@link JobThreads}; on PostgreSQL
     * db-scheduler's own pick after an execution did so before): with a delay shorter than a pick the same job was due
     * again by then, picked and refused back to back, a busy loop of refusals for as long as its slot stayed taken
     * (slots43). The job whose turn comes is woken when a slot or a unit frees, not at its next try, so a longer
     * delay costs no start.
     */
    public static final Duration LEAST_SLOT_RETRY = Duration.ofMillis(100);

    /** The highest {@link #deathsInARow} and {@link #stopsInARow} taken. */
    public static final int MOST_DEATHS_IN_A_ROW = 1000;

    /**
     * As the canonical constructor, without the watchdog, as this constructor was before there was one
     * ({@link #defaults()} and {@code buildhook.yaml} have it on; {@link #withWatchdog} turns it on).
     */
    public EngineConfig(String nodeId, int threads, Duration pollingInterval, Duration heartbeatInterval,
            int missedHeartbeats, Duration shutdownGrace, Duration slotRetryDelay, Duration cancelCheck) {
        this(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace, slotRetryDelay,
                cancelCheck, false);
    }

    /**
     * As the canonical constructor, with the default {@link #deathsInARow}, as this constructor was before
     * there was one.
     */
    public EngineConfig(String nodeId, int threads, Duration pollingInterval, Duration heartbeatInterval,
            int missedHeartbeats, Duration shutdownGrace, Duration slotRetryDelay, Duration cancelCheck,
            boolean watchdog) {
        this(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace, slotRetryDelay,
                cancelCheck, watchdog, org.buildhook.runner.store.ExecutionLedger.DEATHS_IN_A_ROW);
    }

    /**
     * As the canonical constructor, with the default {@link #stopsInARow}, as this constructor was before there was
     * one.
     */
    public EngineConfig(String nodeId, int threads, Duration pollingInterval, Duration heartbeatInterval,
            int missedHeartbeats, Duration shutdownGrace, Duration slotRetryDelay, Duration cancelCheck,
            boolean watchdog, int deathsInARow) {
        this(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace, slotRetryDelay,
                cancelCheck, watchdog, deathsInARow, org.buildhook.runner.store.ExecutionLedger.STOPS_IN_A_ROW);
    }

    /** As the canonical constructor, without the status page's address, as this constructor was before it had one. */
    public EngineConfig(String nodeId, int threads, Duration pollingInterval, Duration heartbeatInterval,
            int missedHeartbeats, Duration shutdownGrace, Duration slotRetryDelay, Duration cancelCheck,
            boolean watchdog, int deathsInARow, int stopsInARow) {
        this(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace, slotRetryDelay,
                cancelCheck, watchdog, deathsInARow, stopsInARow, null);
    }

    public EngineConfig {
        Objects.requireNonNull(nodeId, "nodeId");
        if (nodeId.isBlank() || nodeId.length() > 50) {
            throw new IllegalArgumentException("nodeId must be 1 to 50 characters, got '" + nodeId + "'");
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (missedHeartbeats < 4) {
            // db-scheduler's own lower bound.
            throw new IllegalArgumentException("missedHeartbeats must be >= 4, got " + missedHeartbeats);
        }
        positive(pollingInterval, "pollingInterval");
        positive(heartbeatInterval, "heartbeatInterval");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        positive(slotRetryDelay, "slotRetryDelay");
        if (slotRetryDelay.compareTo(LEAST_SLOT_RETRY) < 0) {
            slotRetryDelay = LEAST_SLOT_RETRY;
        }
        positive(cancelCheck, "cancelCheck");
        if (deathsInARow < 1 || deathsInARow > MOST_DEATHS_IN_A_ROW) {
            throw new IllegalArgumentException("deathsInARow must be 1 to " + MOST_DEATHS_IN_A_ROW + ", got "
                    + deathsInARow);
        }
        if (stopsInARow < 1 || stopsInARow > MOST_DEATHS_IN_A_ROW) {
            throw new IllegalArgumentException("stopsInARow must be 1 to " + MOST_DEATHS_IN_A_ROW + ", got "
                    + stopsInARow);
        }
        if (statusPage != null && (!statusPage.isAbsolute() || statusPage.getRawQuery() != null
                || statusPage.getRawFragment() != null || !statusPage.getRawPath().endsWith("/"))) {
            throw new IllegalArgumentException("statusPage must be an absolute URL whose path ends in '/', with no query"
                    + " or fragment, got " + statusPage);
        }
    }

    public static EngineConfig defaults() {
        return new EngineConfig(defaultNodeId(), 4, Duration.ofSeconds(5), Duration.ofSeconds(30), 6,
                Duration.ofSeconds(30), Duration.ofSeconds(2), Duration.ofSeconds(2), true);
    }

    /** {@code <hostname>-<pid>}, cut to 50 characters. */
    public static String defaultNodeId() {
        String host = org.buildhook.runner.exec.HostName.current(); // the kernel's, resolved or not (tryout29 F8)
        String pid = "-" + ProcessHandle.current().pid();
        return (host.length() + pid.length() > 50 ? host.substring(0, 50 - pid.length()) : host) + pid;
    }

    public EngineConfig withNodeId(String value) {
        return new EngineConfig(value, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                slotRetryDelay, cancelCheck, watchdog, deathsInARow, stopsInARow, statusPage);
    }

    public EngineConfig withThreads(int value) {
        return new EngineConfig(nodeId, value, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                slotRetryDelay, cancelCheck, watchdog, deathsInARow, stopsInARow, statusPage);
    }

    /** Polling, heartbeat and dead-node detection: tests and clusters that must fail over fast. */
    public EngineConfig withTimings(Duration polling, Duration heartbeat, int missed) {
        return new EngineConfig(nodeId, threads, polling, heartbeat, missed, shutdownGrace, slotRetryDelay,
                cancelCheck, watchdog, deathsInARow, stopsInARow, statusPage);
    }

    public EngineConfig withShutdownGrace(Duration value) {
        return new EngineConfig(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, value,
                slotRetryDelay, cancelCheck, watchdog, deathsInARow, stopsInARow, statusPage);
    }

    public EngineConfig withSlotRetryDelay(Duration value) {
        return new EngineConfig(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                value, cancelCheck, watchdog, deathsInARow, stopsInARow, statusPage);
    }

    /** With the watchdog process on (where it applies: PostgreSQL) or off. */
    public EngineConfig withWatchdog(boolean value) {
        return new EngineConfig(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                slotRetryDelay, cancelCheck, value, deathsInARow, stopsInARow, statusPage);
    }

    /** With {@link #deathsInARow} {@code value}, 1 to {@link #MOST_DEATHS_IN_A_ROW}. */
    public EngineConfig withDeathsInARow(int value) {
        return new EngineConfig(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                slotRetryDelay, cancelCheck, watchdog, value, stopsInARow, statusPage);
    }

    /** With {@link #stopsInARow} {@code value}, 1 to {@link #MOST_DEATHS_IN_A_ROW}. */
    public EngineConfig withStopsInARow(int value) {
        return new EngineConfig(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                slotRetryDelay, cancelCheck, watchdog, deathsInARow, value, statusPage);
    }

    /** With {@link #statusPage} {@code value} (null for none). */
    public EngineConfig withStatusPage(java.net.URI value) {
        return new EngineConfig(nodeId, threads, pollingInterval, heartbeatInterval, missedHeartbeats, shutdownGrace,
                slotRetryDelay, cancelCheck, watchdog, deathsInARow, stopsInARow, value);
    }

    /**
     * The address of job {@code jobId}'s page on the status page ({@code <statusPage>?job=<id>}, the page's own link
     * to a job), or {@code null} when no {@link #statusPage} is configured. A job id is a ULID: nothing to encode.
     */
    public String jobPage(String jobId) {
        return statusPage == null ? null : statusPage + "?job=" + jobId;
    }

    /** {@link #deathsInARow} and {@link #stopsInARow}, as the store counts them when a job is to start again. */
    public org.buildhook.runner.store.ExecutionLedger.InARow inARow() {
        return new org.buildhook.runner.store.ExecutionLedger.InARow(deathsInARow, stopsInARow);
    }

    /** The dead-node limit: {@code heartbeatInterval × missedHeartbeats}. */
    public Duration deadNodeLimit() {
        return heartbeatInterval.multipliedBy(missedHeartbeats);
    }

    private static void positive(Duration d, String name) {
        Objects.requireNonNull(d, name);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }
}
