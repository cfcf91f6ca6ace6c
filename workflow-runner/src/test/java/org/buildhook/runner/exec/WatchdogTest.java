package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The watchdog process against real process trees: it kills an attempt's processes (its session and
 * whatever carries its marker) when the node stops beating it or its input ends, it is started again
 * when it dies, and the node learns from it which attempts it killed. Every wait is for an event; the
 * dead-node limits are long enough that a loaded machine's stalls of this JVM do not set it off.
 */
class WatchdogTest {

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final ch.qos.logback.classic.Logger logger =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(Watchdog.class);
    private final List<Process> started = java.util.Collections.synchronizedList(new ArrayList<>());
    private final List<AttemptMarker> markers = new ArrayList<>();
    private Watchdog watchdog;
    /** The watchdog a test stopped: continued at the end without the Watchdog's lock, which a fault may hold. */
    private long stoppedPid = -1;
    /**
     * Each test's own job ids, as a node's are unique (ULIDs): with one "J1" for every test, the processes of
     * one test carried the marker of another's, and a watchdog of an earlier test still ending could kill them.
     */
    private final String jobs = Long.toString(System.nanoTime(), 36);

    private String job(String name) {
        return name + "-" + jobs;
    }

    @BeforeEach
    void capture() {
        log.start();
        logger.addAppender(log);
    }

    @AfterEach
    void cleanUp() throws Exception {
        logger.detachAppender(log);
        logger.setLevel(null);
        if (stoppedPid > 0) {
            signal("CONT", stoppedPid);
        }
        if (watchdog != null) {
            if (watchdog.pid() > 0) {
                signal("CONT", watchdog.pid());
            }
            watchdog.close();
        }
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (AttemptMarker marker : markers) {
            Leftovers.kill(marker, null, 0);
        }
        for (TitledDaemon daemon : daemons) {
            daemon.end();
        }
    }

    @Test
    void killsEveryProcessOfARunningAttemptWhenTheNodeStopsBeating() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = attempt(marker);
        // Another attempt that has ended: never touched.
        AttemptMarker done = AttemptMarker.of(job("J2"), 1);
        ProcessIdentity other = attempt(done);
        watchdog.running(done);
        watchdog.process(done, other);
        assertThat(watchdog.ended(done)).isNull();
        watchdog.running(marker);
        watchdog.process(marker, first);

        watchdog.beating(false); // as this JVM paused

        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        assertThat(Leftovers.find(done, other)).as("an attempt that ended is left alone").isNotEmpty();
        watchdog.beating(true);
        // Known before the attempt's end is taken (its self-fencing then does not say it kills it again: cluster27 F6).
        await().atMost(Duration.ofMinutes(1)).until(() -> watchdog.killed(marker) != null);
        Watchdog.Kill kill = watchdog.ended(marker);
        assertThat(kill).as("the node learns it as soon as it sees the attempt end").isNotNull();
        assertThat(kill.why()).startsWith("killed by the watchdog of node test-node: its node gave no sign of life for ")
                .contains("(its JVM was paused or stalled, not the store), and after 8s another node may run the job");
        assertThat(watchdog.isUp()).as("it watches on").isTrue();
    }

    /**
     * An attempt announced ({@code R}) whose process was not yet forked when the watchdog came is no attempt "ended by
     * itself before" its look (review49 F6): this JVM, paused between the two, forks it on waking, and its end must not
     * be that look, before its start. One whose process was named ({@code P}) and had ended is.
     */
    @Test
    void anAttemptNotYetForkedWhenTheWatchdogCameIsNotSaidToHaveEndedBeforeIt() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        AttemptMarker announced = AttemptMarker.of(job("J1"), 1);
        watchdog.running(announced); // about to start: this JVM paused before the fork
        AttemptMarker gone = AttemptMarker.of(job("J2"), 1);
        ProcessBuilder builder = new ProcessBuilder("sleep", "600");
        builder.environment().put(AttemptMarker.VARIABLE, gone.value());
        markers.add(gone);
        Process p = builder.start();
        started.add(p);
        await().atMost(Duration.ofMinutes(1)).until(() -> ProcStat.of(p.pid()) != null);
        ProcessIdentity identity = ProcessIdentity.of(p.pid());
        watchdog.running(gone);
        watchdog.process(gone, identity);
        p.destroyForcibly().waitFor(); // ended (by itself, to the watchdog) before its look

        watchdog.beating(false); // as this JVM paused

        // The watchdog's report of the named attempt comes after any of the announced one (one line each, in order).
        await().atMost(Duration.ofMinutes(2)).until(() -> log.list.stream().anyMatch(e -> e.getFormattedMessage()
                .startsWith("job " + job("J2") + " attempt 1: the watchdog of node test-node found nothing left")));
        watchdog.beating(true);
        assertThat(watchdog.endOf(announced, false).endedBefore()).as("nothing of it had started").isNull();
        assertThat(watchdog.endOf(gone, false).endedBefore()).isNotNull();
    }

    /** The kill's own time in its line, and how late it was read: a paused node reads it on waking (cluster27 F6). */
    @Test
    void theKillsLineSaysWhenItKilledAndHowLateItWasRead() {
        Instant at = Instant.parse("2026-12-02T22:48:49.935Z");
        assertThat(Watchdog.killedAt(at, at.plusMillis(300))).isEqualTo("killed at 2026-12-02T22:48:49.935Z");
        assertThat(Watchdog.killedAt(at, Instant.parse("2026-12-02T22:49:22.946Z"))).isEqualTo(
                "killed at 2026-12-02T22:48:49.935Z, read 33.0 s later: this node's JVM was paused or stalled until then");
    }

    @Test
    void keepsTheAttemptsOfANodeThatBeats() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(20));
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);
        // Longer than the watchdog's bound (10 s): only a stall of this JVM that long would be a kill.
        await().during(Duration.ofSeconds(12)).atMost(Duration.ofMinutes(1))
                .until(() -> !Leftovers.find(marker, first).isEmpty());
        assertThat(watchdog.ended(marker)).isNull();
    }

    /**
     * escape50 F1: a daemon of the attempt that left its session, closed its descriptors and wrote its title over its
     * environment carries neither the session nor the marker: the watchdog kills it by the attempt's cgroup
     * ({@link AttemptCgroups}), and removes the cgroup; the like daemon of another attempt's cgroup stays. Failed
     * before: the daemon ran on.
     */
    @Test
    void killsADaemonThatWroteItsTitleOverTheMarkerByTheAttemptsCgroup(@org.junit.jupiter.api.io.TempDir
            java.nio.file.Path dir) throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.isExecutable(
                java.nio.file.Path.of(TitledDaemon.PERL)), "needs perl");
        CgroupsRequired.require();
        watchdog = upAfterStart(Duration.ofMinutes(10));
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        AttemptMarker other = AttemptMarker.of(job("J2"), 1);
        TitledDaemon mine = daemon(TitledDaemon.start(marker, "watchdog-mine-" + jobs, dir,
                AttemptCgroups.create(marker)));
        TitledDaemon theirs = daemon(TitledDaemon.start(other, "watchdog-other-" + jobs, dir,
                AttemptCgroups.create(other)));
        assertThat(marker.isCarriedBy(mine.daemon())).isFalse();
        watchdog.running(marker);
        watchdog.process(marker, ProcessIdentity.of(mine.shell().pid()));

        watchdog.abandon(); // its input ends, as when this JVM is killed

        await().atMost(Duration.ofMinutes(2)).until(mine::daemonGone);
        await().atMost(Duration.ofMinutes(1)).until(() -> !java.nio.file.Files.exists(mine.cgroup()));
        assertThat(theirs.daemonGone()).as("another attempt's cgroup is left alone").isFalse();
        assertThat(theirs.shell().isAlive()).isTrue();
    }

    private final List<TitledDaemon> daemons = new ArrayList<>();

    private TitledDaemon daemon(TitledDaemon started) {
        daemons.add(started);
        return started;
    }

    @Test
    void killsTheRunningAttemptsAtOnceWhenTheNodeIsGone() throws Exception {
        watchdog = upAfterStart(Duration.ofMinutes(10));
        long pid = watchdog.pid();
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);

        watchdog.abandon(); // its input ends, as when this JVM is killed

        // Far sooner than its bound of 5 minutes without a beat.
        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        await().atMost(Duration.ofMinutes(1)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    @Test
    void aWatchdogThatDiesIsReportedAndStartedAgainKnowingTheRunningAttempts() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);
        long pid = watchdog.pid();

        ProcessHandle.of(pid).orElseThrow().destroyForcibly();

        await().atMost(Duration.ofMinutes(2)).until(() -> watchdog.isUp() && watchdog.pid() != pid);
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                .startsWith("the watchdog of node test-node (pid " + pid + ") ended (exit status 137): while it is away,"
                        + " a pause of this JVM longer than the dead-node limit (8s) lets another node run"));
        assertThat(Leftovers.find(marker, first)).as("its death killed nothing").isNotEmpty();
        watchdog.beating(false);
        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        assertThat(watchdog.ended(marker)).isNotNull();
    }

    /**
     * A watchdog that stops reading (stopped by a signal, hung) never holds the node's jobs back, and is
     * replaced (review16 L5). Each line to it was written under the node's lock: once its 64 KiB pipe was
     * full, the next start or end of an attempt blocked for as long as it did not read, and the beats with
     * it. Here it is stopped, and more starts and ends than its pipe holds must all return; it is killed and
     * started again, and its successor guards the attempt that ran throughout.
     */
    @Test
    void aWatchdogThatStopsReadingNeverHoldsTheJobsBackAndIsReplaced() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);
        long pid = watchdog.pid();
        stoppedPid = pid;
        signal("STOP", pid);
        await().atMost(Duration.ofMinutes(1)).until(() -> state(pid) == 'T');

        // About 160 KB of lines, more than twice what its pipe holds.
        java.util.concurrent.CompletableFuture<Void> attempts = java.util.concurrent.CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 4000; i++) {
                AttemptMarker other = AttemptMarker.of(job("K" + i), 1);
                watchdog.running(other);
                watchdog.ended(other);
            }
        });
        await().atMost(Duration.ofMinutes(2)).until(attempts::isDone);
        attempts.get();

        await().atMost(Duration.ofMinutes(2)).until(() -> watchdog.isUp() && watchdog.pid() != pid);
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).anySatisfy(m -> assertThat(m)
                .startsWith("the watchdog of node test-node (pid " + pid + ") ")
                .endsWith("it is killed and started again"));
        assertThat(Leftovers.find(marker, first)).as("its replacement killed nothing").isNotEmpty();
        watchdog.beating(false);
        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        assertThat(watchdog.ended(marker)).as("its successor knew the attempt").isNotNull();
    }

    /**
     * Starting a watchdog again holds no job thread back (review17 R8): it was started under the node's lock,
     * so every attempt's start and end, and the node's own close, waited out a fork and exec of a JVM (long
     * under memory pressure). Here the second start is held back: a start and an end of an attempt, then the
     * close, must all return meanwhile, and the watchdog started after the close is ended at once.
     */
    @Test
    void startingAWatchdogAgainHoldsNoAttemptBackAndOneStartedAfterTheCloseEnds() throws Exception {
        java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger starts = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicReference<Process> late = new java.util.concurrent.atomic.AtomicReference<>();
        Watchdog held = Watchdog.start("test-node", Duration.ofSeconds(8), builder -> {
            if (starts.incrementAndGet() == 1) {
                return builder.start();
            }
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Process p = builder.start();
            late.set(p);
            started.add(p);
            return p;
        });
        watchdog = held;
        await().atMost(Duration.ofMinutes(2)).until(held::isUp);
        long pid = held.pid();
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();
        await().atMost(Duration.ofMinutes(2)).until(() -> entered.getCount() == 0);

        try {
            AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
            java.util.concurrent.CompletableFuture<Void> attempt = java.util.concurrent.CompletableFuture.runAsync(() -> {
                held.running(marker);
                held.ended(marker);
            });
            await().atMost(Duration.ofMinutes(1)).until(attempt::isDone);
            attempt.get();
            java.util.concurrent.CompletableFuture<Void> close = java.util.concurrent.CompletableFuture.runAsync(held::close);
            await().atMost(Duration.ofMinutes(1)).until(close::isDone);
            close.get();
            assertThat(release.getCount()).as("all of it while the start was held back").isEqualTo(1);
        } finally {
            release.countDown();
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> late.get() != null && !late.get().isAlive());
        assertThat(held.pid()).isEqualTo(-1);
    }

    @Test
    void aGracefulCloseKillsNothing() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        long pid = watchdog.pid();
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);
        assertThat(watchdog.ended(marker)).isNull();

        watchdog.close();

        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(Leftovers.find(marker, first)).isNotEmpty();
    }

    @Test
    void runsInASessionOfItsOwnWithATinyHeapAndNoEnvironment() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        long pid = watchdog.pid();
        assertThat(ProcStat.of(pid).session()).isEqualTo(pid);
        String command = ProcessHandle.of(pid).orElseThrow().info().arguments().map(List::of).orElse(List.of())
                .toString();
        assertThat(command).contains("-Xmx16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                NodeWatchdog.class.getName());
        String environ = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/" + pid + "/environ")),
                java.nio.charset.StandardCharsets.UTF_8);
        assertThat(environ).doesNotContain("PATH=", "HOME=");
    }

    /**
     * A pause of the watchdog itself is no silence of the node (review16): frozen with it (its container
     * or VM: podman pause, a stalled VM), the node and its commands were paused too, and alone (stopped,
     * starved) it did not hear a node that beat on. Counted, a freeze between half the dead-node limit and
     * the limit killed the jobs of a node that beat again at once. Here node and watchdog are frozen for
     * more than twice the watchdog's bound, and the node stays silent after: the watchdog kills only once it
     * has itself heard nothing for its bound, and says so, not the whole freeze.
     */
    @Test
    void aPauseOfTheWatchdogItselfIsNotCountedAsTheNodesSilence() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(6));
        long pid = watchdog.pid();
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);

        watchdog.beating(false);
        signal("STOP", pid);
        await().atMost(Duration.ofMinutes(1)).until(() -> state(pid) == 'T');
        long frozen = System.nanoTime();
        // The freeze itself (what is tested), not a wait for an event: 7 s, more than twice the bound of 3 s.
        await().pollDelay(Duration.ofSeconds(7)).atMost(Duration.ofMinutes(1))
                .until(() -> System.nanoTime() - frozen >= Duration.ofSeconds(7).toNanos());
        signal("CONT", pid);

        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        Watchdog.Kill kill = watchdog.ended(marker);
        assertThat(kill).isNotNull();
        java.util.regex.Matcher silent = java.util.regex.Pattern.compile("gave no sign of life for ([0-9.]+) s")
                .matcher(kill.why());
        assertThat(silent.find()).as(kill.why()).isTrue();
        // At most its bound and one look more (two steps of 250 ms); the freeze alone was 7 s. No speed bound: a look
        // counts at most two steps of silence however late it comes (NodeWatchdog.watch moves the last beat on by
        // any oversleep past one step), so a starved watchdog reports no more than this either. Only lines left unread
        // in its pipe hold a kill back, and the node writes none once its beats stop.
        assertThat(Double.parseDouble(silent.group(1))).as(kill.why()).isLessThan(4.0);
    }

    /**
     * Both JVMs stopped, the commands not (asleep50, tryout50 F9: {@code kill -STOP} of the node's and the watchdog's
     * {@code java}, a debugger stopping every JVM): nothing guarded the commands, and after the dead-node limit a node
     * on another host ran the job beside them, while the woken watchdog, which counts only its awake time as the
     * node's silence, killed nothing and nothing said it had been stopped. Now, on waking, it kills at once the
     * attempts whose commands used CPU time through its gap, once the node says it was stopped through it too
     * ({@code S}), and the node says so at ERROR and records the kill. Attempts whose commands froze with it (here
     * stopped too: a frozen container or VM) or did nothing (a shell waiting on a sleep) are left alone, as before.
     */
    @Test
    void commandsThatRanOnWhileTheWatchdogAndItsNodeWereBothStoppedAreKilledOnWaking(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path errors = dir.resolve("watchdog.err");
        watchdog = upSayingWhatItMeasures(Duration.ofSeconds(6), errors);
        long pid = watchdog.pid();
        AttemptMarker ran = AttemptMarker.of(job("RAN"), 1);
        ProcessIdentity busy = busy(ran);
        watchdog.running(ran);
        watchdog.process(ran, busy);
        AttemptMarker frozen = AttemptMarker.of(job("FROZEN"), 1);
        ProcessIdentity still = guarded(frozen);
        Set<Long> frozenPids = Leftovers.find(frozen, still);
        AttemptMarker idle = AttemptMarker.of(job("IDLE"), 1);
        ProcessIdentity waiting = guarded(idle);
        // Stopped only once the watchdog has measured the busy command's CPU time over a step (review51 W1: it counts
        // as "ran on" only what the command's use per step does not explain), however late it looks at a loaded time.
        await().atMost(Duration.ofMinutes(1)).until(() -> said(errors, "measures attempt " + ran.value() + "'s"));
        try {
            for (long p : frozenPids) {
                signal("STOP", p);
            }
            watchdog.beating(false); // the node's JVM stopped
            signal("STOP", pid);
            stoppedPid = pid;
            await().atMost(Duration.ofMinutes(1)).until(() -> state(pid) == 'T');
            long stopped = System.nanoTime();
            // The stop itself (what is tested), not a wait for an event: 8 s, more than the watchdog's bound of 3 s,
            // 32 of its steps of 250 ms against the 4 steps of the command's use the awake time around it explains.
            await().pollDelay(Duration.ofSeconds(8)).atMost(Duration.ofMinutes(1))
                    .until(() -> System.nanoTime() - stopped >= Duration.ofSeconds(8).toNanos());
            // The node first (its S and beats wait in the pipe), then its watchdog: the node beats from the start, so
            // no silence of the node's counted after the wake kills anything, however late this JVM runs.
            watchdog.beating(true);
            signal("CONT", pid);
            stoppedPid = -1;

            await().atMost(Duration.ofMinutes(1)).until(() -> Leftovers.find(ran, busy).isEmpty());
            await().atMost(Duration.ofMinutes(1)).until(() -> watchdog.killed(ran) != null);
            Watchdog.Kill kill = watchdog.ended(ran, true);
            assertThat(kill).isNotNull();
            assertThat(kill.why()).startsWith("killed by the watchdog of node test-node on waking: it had been stopped"
                    + " with its node for ").endsWith("while the attempt's commands ran on unguarded, and past the"
                    + " dead-node limit (6s) another node may have run the job at the same time meanwhile");
            await().atMost(Duration.ofMinutes(1)).until(() -> log.list.stream().anyMatch(e ->
                    e.getLevel() == ch.qos.logback.classic.Level.ERROR
                            && e.getFormattedMessage().startsWith("job " + job("RAN") + " attempt 1: killed by the"
                            + " watchdog of node test-node on waking")));
            java.util.regex.Matcher gap = java.util.regex.Pattern.compile("stopped with its node for ([0-9.]+) s")
                    .matcher(kill.why());
            assertThat(gap.find()).as(kill.why()).isTrue();
            assertThat(Double.parseDouble(gap.group(1))).as("the gap itself, counted").isGreaterThanOrEqualTo(8.0);

            assertThat(Leftovers.find(frozen, still)).as("commands that froze with it are left alone")
                    .containsAll(frozenPids);
            assertThat(Leftovers.find(idle, waiting)).as("commands that did not run are left alone").isNotEmpty();
            assertThat(watchdog.killed(frozen)).isNull();
            assertThat(watchdog.killed(idle)).isNull();
        } finally {
            for (long p : frozenPids) {
                signal("CONT", p);
            }
        }
    }

    /**
     * A CPU-busy command frozen together with its node and watchdog (review51 W1: a frozen container or VM, {@code
     * podman pause}, {@code systemctl freeze}, a stalled VM; the pause docs/storage.md recommends): one {@code kill
     * -STOP} of the watchdog and the command, the node's beats stopped meanwhile and its {@code S} sent on waking. The
     * watchdog counted as "ran while it was stopped" the CPU time the command used between its last look and the
     * freeze and from the thaw to its first look (up to a step of a busy command: 25 ticks, against 2), and killed
     * it on the thaw, saying "not a frozen VM or container"; the job ran again. Now what the command's use per step
     * explains of that awake time is not counted: it is left alone.
     */
    @Test
    void aBusyCommandFrozenWithItsNodeAndWatchdogIsLeftAlone(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        java.nio.file.Path errors = dir.resolve("watchdog.err");
        watchdog = upSayingWhatItMeasures(Duration.ofSeconds(6), errors);
        long pid = watchdog.pid();
        AttemptMarker frozen = AttemptMarker.of(job("BUSYFROZEN"), 1);
        ProcessIdentity busy = busy(frozen);
        watchdog.running(frozen);
        watchdog.process(frozen, busy);
        await().atMost(Duration.ofMinutes(1)).until(() -> said(errors, "measures attempt " + frozen.value() + "'s"));
        try {
            watchdog.beating(false); // the node's JVM frozen
            // The freeze of the whole container, the watchdog a moment before the command: the command runs on in
            // the rest of the watchdog's step until it has used CPU time after the watchdog's last look (more than
            // the 2 ticks that showed "ran on" before), as it does when a freeze comes in the middle of a step.
            // A shell started beforehand stops the command, so that no fork of kill(1) lets it run on longer.
            Process stopper = new ProcessBuilder("/bin/sh", "-c", "read go; kill -STOP " + busy.pid()).start();
            started.add(stopper);
            signal("STOP", pid);
            stoppedPid = pid;
            await().atMost(Duration.ofMinutes(1)).until(() -> state(pid) == 'T');
            long atLastLook = ownCpuTicks(busy.pid());
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(10))
                    .until(() -> ownCpuTicks(busy.pid()) - atLastLook > NodeWatchdog.RAN_TICKS);
            stopper.getOutputStream().write('\n');
            stopper.getOutputStream().flush();
            await().atMost(Duration.ofMinutes(1)).until(() -> state(busy.pid()) == 'T');
            long stopped = System.nanoTime();
            // The freeze itself (what is tested), not a wait for an event: 8 s, more than the watchdog's bound of 3 s.
            await().pollDelay(Duration.ofSeconds(8)).atMost(Duration.ofMinutes(1))
                    .until(() -> System.nanoTime() - stopped >= Duration.ofSeconds(8).toNanos());
            // The thaw: the node beats (its S in the pipe first), then the watchdog and the command go on together.
            watchdog.beating(true);
            new ProcessBuilder("kill", "-CONT", Long.toString(pid), Long.toString(busy.pid())).start().waitFor();
            stoppedPid = -1;

            // Its look after the gap, which decides: an attempt not found to have run on then is never killed for it.
            await().atMost(Duration.ofMinutes(1)).until(() -> said(errors, "did not run for "));
            String after = java.nio.file.Files.readString(errors);
            assertThat(after).as("what the watchdog measured after the gap").contains("; ran on: none")
                    .contains(frozen.value() + " ");
            assertThat(watchdog.killed(frozen)).isNull();
            assertThat(Leftovers.find(frozen, busy)).as("the frozen command goes on").contains(busy.pid());
            assertThat(log.list).noneMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.ERROR);
        } finally {
            signal("CONT", busy.pid());
        }
    }

    /** An attempt whose one process, a shell in a session of its own, keeps a CPU busy until killed. */
    private ProcessIdentity busy(AttemptMarker marker) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "--", "/bin/sh", "-c",
                "i=0; while :; do i=$((i+1)); done");
        builder.environment().put(AttemptMarker.VARIABLE, marker.value());
        markers.add(marker);
        Process p = builder.start();
        started.add(p);
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(p.pid());
            return stat != null && stat.session() == p.pid() && !Leftovers.find(marker, null).isEmpty();
        });
        return ProcessIdentity.of(p.pid());
    }

    /**
     * SIGTERM, SIGINT and SIGHUP leave the watchdog on (review16): systemd's KillMode=control-group sends
     * SIGTERM to every process of the unit at a stop, a terminal's Ctrl-C and hang-up reach its group where
     * there is no setsid. Killed by them, it left the node unguarded through the stop's grace period and the
     * node logged its death ("a pause of this JVM … lets another node run this node's jobs") at every stop.
     * It ends with its node: here, the end of its input kills the running attempt.
     */
    @Test
    void theStopSignalsOfTheServiceLeaveTheWatchdogToEndWithItsNode() throws Exception {
        watchdog = upAfterStart(Duration.ofMinutes(10));
        long pid = watchdog.pid();
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);
        // Ignored before it says it runs (H): the signals below are dropped by the kernel, not raced.
        assertThat(ignoredSignals(pid)).as("SIGHUP, SIGINT, SIGTERM ignored").contains(1, 2, 15);

        for (String name : List.of("TERM", "INT", "HUP")) {
            signal(name, pid);
        }
        watchdog.abandon();

        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).noneMatch(m -> m.contains("ended (exit"));
    }

    /** The CPU time (clock ticks) process {@code pid} used itself: {@code utime + stime} of its {@code stat}. */
    private static long ownCpuTicks(long pid) throws IOException {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // fields 14 and 15 of the line
    }

    private static char state(long pid) throws IOException {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        return stat.charAt(stat.lastIndexOf(')') + 2);
    }

    /** The signals {@code pid} ignores, from {@code SigIgn} in {@code /proc/<pid>/status}. */
    private static List<Integer> ignoredSignals(long pid) throws IOException {
        long mask = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/" + pid + "/status")).stream()
                .filter(l -> l.startsWith("SigIgn:")).map(l -> Long.parseUnsignedLong(l.substring(7).trim(), 16))
                .findFirst().orElseThrow();
        List<Integer> ignored = new ArrayList<>();
        for (int signal = 1; signal <= 64; signal++) {
            if ((mask & (1L << (signal - 1))) != 0) {
                ignored.add(signal);
            }
        }
        return ignored;
    }

    private static void signal(String name, long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }

    /**
     * {@link #upAfterStart} with the watchdog's standard error in {@code errors} and its node's logger at DEBUG, so
     * that it says what it measures (the attempts' CPU time per step, what it found after a gap of its own).
     */
    private Watchdog upSayingWhatItMeasures(Duration limit, java.nio.file.Path errors) {
        logger.setLevel(ch.qos.logback.classic.Level.DEBUG);
        Watchdog up = Watchdog.start("test-node", limit, builder -> {
            Process p = builder.redirectError(ProcessBuilder.Redirect.appendTo(errors.toFile())).start();
            started.add(p);
            return p;
        });
        await().atMost(Duration.ofMinutes(2)).until(up::isUp);
        return up;
    }

    /** Whether the watchdog said {@code words} on its standard error, {@code errors}. */
    private static boolean said(java.nio.file.Path errors, String words) throws IOException {
        return java.nio.file.Files.exists(errors) && java.nio.file.Files.readString(errors).contains(words);
    }

    private Watchdog upAfterStart(Duration limit) {
        Watchdog started = Watchdog.start("test-node", limit);
        await().atMost(Duration.ofMinutes(2)).until(started::isUp);
        return started;
    }

    /**
     * The watchdog runs on this JVM's {@code java.home}, not on the program that hosts the JVM (war17 F2):
     * under Tomcat's jsvc that program is jsvc, which answered "Cannot locate Java Home" at every restart,
     * so the node ran unguarded with a WARN every 10 s. The program is the fallback only.
     */
    @Test
    void theWatchdogRunsOnThisJvmsJavaNotOnTheProgramThatHostsIt() {
        String home = System.getProperty("java.home");
        assertThat(Watchdog.java(home, java.util.Optional.of("/usr/bin/jsvc")))
                .isEqualTo(java.nio.file.Path.of(home, "bin", "java").toString());
        assertThat(Watchdog.java("/nonexistent-java-home", java.util.Optional.of("/opt/jdk/bin/java")))
                .isEqualTo("/opt/jdk/bin/java");
    }

    /**
     * A start waits for its line to be in the watchdog's pipe again once a stall is over (review17 R1): after
     * one wait timed out, every later start of that watchdog's life (days) went on at once, its line maybe not
     * yet written, so a pause of the JVM right then left the watchdog not knowing the attempt.
     */
    @Test
    void aStartWaitsForItsLineAgainOnceTheWriterHasCaughtUp() throws Exception {
        java.util.concurrent.Semaphore gate = new java.util.concurrent.Semaphore(0);
        java.io.ByteArrayOutputStream received = new java.io.ByteArrayOutputStream();
        java.io.OutputStream slow = new java.io.OutputStream() {
            @Override
            public void write(int b) {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                gate.acquireUninterruptibly();
                synchronized (received) {
                    received.write(b, off, len);
                }
            }
        };
        Watchdog.Pipe pipe = new Watchdog.Pipe(slow, 0);
        try {
            long first = pipe.offer("R first");
            pipe.awaitWritten(first, Duration.ofMillis(100)); // times out: the writer is stalled
            gate.release();
            await().atMost(Duration.ofMinutes(1)).until(() -> contents(received).contains("R first"));

            long second = pipe.offer("R second");
            java.util.concurrent.atomic.AtomicBoolean returnedBeforeWritten = new java.util.concurrent.atomic.AtomicBoolean();
            Thread start = new Thread(() -> {
                pipe.awaitWritten(second, Duration.ofMinutes(2));
                returnedBeforeWritten.set(!contents(received).contains("R second"));
            });
            start.start();
            await().atMost(Duration.ofMinutes(1)).until(() -> start.getState() == Thread.State.TIMED_WAITING
                    || start.getState() == Thread.State.TERMINATED);
            gate.release(100);
            start.join(Duration.ofMinutes(2).toMillis());
            assertThat(returnedBeforeWritten).as("the start went on before its line was in the pipe").isFalse();
        } finally {
            gate.release(100);
            pipe.end();
        }
    }

    private static String contents(java.io.ByteArrayOutputStream received) {
        synchronized (received) {
            return received.toString(java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /**
     * The late K line (note16, note17): the watchdog's report of a kill came after the node had read the
     * attempt's end, and was lost: the attempt was recorded as the job's own failure (exit status 137, a retry
     * used, its on-failure started) for a kill that was buildhook's own. Here every line of the watchdog after
     * its H is held back until the node tells it the attempt ended or asks about it ({@link HeldReports}); the
     * node, having seen the attempt end by SIGKILL, must wait for the watchdog's word and find the report.
     */
    @Test
    void aKillReportReadOnlyAfterTheAttemptEndedBySigkillIsWaitedFor() throws Exception {
        java.util.concurrent.CountDownLatch told = new java.util.concurrent.CountDownLatch(1);
        watchdog = Watchdog.start("test-node", Duration.ofSeconds(8), builder -> {
            Process p = builder.start();
            started.add(p);
            return new HeldReports(p, told, "Q ", "E ");
        });
        await().atMost(Duration.ofMinutes(2)).until(watchdog::isUp);
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);

        watchdog.beating(false); // as this JVM paused
        await().atMost(Duration.ofMinutes(2)).until(() -> Leftovers.find(marker, first).isEmpty());
        watchdog.beating(true);
        assertThat(told.getCount()).as("nothing of the watchdog's report was read yet").isEqualTo(1);

        Watchdog.Kill kill = watchdog.ended(marker, true);
        assertThat(kill).as("the node waited for the watchdog's word").isNotNull();
        assertThat(kill.why()).startsWith("killed by the watchdog of node test-node: its node gave no sign of life for ");
    }

    /**
     * A SIGKILL by anyone else (the OOM killer, an operator) is still the job's own failure: the watchdog
     * answers that it did not kill the attempt, and one that does not answer (here its answers are never
     * read) is waited for no longer than its bound.
     */
    @Test
    void aSigkillByAnyoneElseIsNoWatchdogKillWhetherTheWatchdogAnswersOrNot() throws Exception {
        watchdog = upAfterStart(Duration.ofSeconds(8));
        AttemptMarker marker = AttemptMarker.of(job("J1"), 1);
        ProcessIdentity first = guarded(marker);
        Leftovers.kill(marker, first, 0); // as the OOM killer
        await().atMost(Duration.ofMinutes(1)).until(() -> Leftovers.find(marker, first).isEmpty());
        assertThat(watchdog.ended(marker, true)).isNull();
        assertThat(watchdog.isUp()).as("it watches on").isTrue();

        java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
        Watchdog deaf = Watchdog.start("test-node", Duration.ofSeconds(8), builder -> {
            Process p = builder.start();
            started.add(p);
            return new HeldReports(p, never);
        });
        try {
            await().atMost(Duration.ofMinutes(2)).until(deaf::isUp);
            AttemptMarker other = AttemptMarker.of(job("J2"), 1);
            ProcessIdentity second = attempt(other);
            deaf.running(other);
            deaf.process(other, second);
            Leftovers.kill(other, second, 0);
            await().atMost(Duration.ofMinutes(1)).until(() -> Leftovers.find(other, second).isEmpty());
            java.util.concurrent.CompletableFuture<Watchdog.Kill> ended =
                    java.util.concurrent.CompletableFuture.supplyAsync(() -> deaf.ended(other, true));
            await().atMost(Duration.ofMinutes(1)).until(ended::isDone);
            assertThat(ended.get()).isNull();
        } finally {
            deaf.close();
            never.countDown();
        }
    }

    /**
     * A watchdog's process whose output is held back after its first line (its H) until the node writes a
     * line starting with one of {@code opening} (none: never), as if the node read it late.
     */
    private static final class HeldReports extends ForwardingProcess {
        private final java.util.concurrent.CountDownLatch open;
        private final java.io.InputStream in;
        private final java.io.OutputStream out;

        HeldReports(Process real, java.util.concurrent.CountDownLatch open, String... opening) {
            super(real);
            this.open = open;
            java.io.InputStream from = real.getInputStream();
            this.in = new java.io.InputStream() {
                private boolean firstLineRead;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (firstLineRead) {
                        try {
                            open.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException();
                        }
                        return from.read(b, off, len);
                    }
                    int n = from.read(b, off, 1);
                    if (n == 1 && b[off] == '\n') {
                        firstLineRead = true;
                    }
                    return n;
                }

                @Override
                public int available() throws IOException {
                    return firstLineRead && open.getCount() > 0 ? 0 : Math.min(1, from.available());
                }
            };
            java.io.OutputStream to = real.getOutputStream();
            this.out = new java.io.OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    String line = new String(b, off, len, java.nio.charset.StandardCharsets.US_ASCII);
                    for (String prefix : opening) {
                        if (line.startsWith(prefix)) {
                            open.countDown();
                        }
                    }
                    to.write(b, off, len);
                }

                @Override
                public void flush() throws IOException {
                    to.flush();
                }

                @Override
                public void close() throws IOException {
                    to.close();
                }
            };
        }

        @Override
        public java.io.OutputStream getOutputStream() {
            return out;
        }

        @Override
        public java.io.InputStream getInputStream() {
            return in;
        }

        @Override
        protected void outputEnds() {
            open.countDown(); // nothing is held back any more
        }
    }

    /**
     * perf37 F3: an attempt's start line ({@code R}) is written by the thread that starts the attempt when nothing is
     * queued before it and the watchdog has read everything so far. Before, every start queued its line to the
     * watchdog's writer thread and waited for it to be written: two hand-offs before every exec on PostgreSQL. The C
     * library is bound, as while a launcher runs jobs; the beats are off, so that once the watchdog has read its first
     * lines nothing else is written to it meanwhile.
     */
    @Test
    void anAttemptsStartLineIsWrittenByItsOwnThreadWhenTheWatchdogHasReadEverything() throws Exception {
        NativeSpawn.launcherOpened();
        try {
            LibC.bind();
            List<String[]> lines = java.util.Collections.synchronizedList(new ArrayList<>());
            watchdog = Watchdog.start("test-node", Duration.ofMinutes(10), b -> new WritersSeen(b.start(), lines));
            await().atMost(Duration.ofMinutes(2)).until(watchdog::isUp);
            watchdog.beating(false);
            List<String> told = new ArrayList<>();

            // Until the watchdog has read what came before: each start before that goes through the writer thread.
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                AttemptMarker marker = AttemptMarker.of(job("W" + told.size()), 1);
                told.add("R " + marker.value());
                watchdog.running(marker);
                return Thread.currentThread().getName().equals(writerOf(lines, "R " + marker.value()));
            });

            assertThat(startLines(lines)).as("in the order they were told").containsExactlyElementsOf(told);
        } finally {
            NativeSpawn.launcherClosed();
        }
    }

    /**
     * perf37 F3: a start whose line its own thread would write never waits for a watchdog that stopped reading: its
     * pipe is not empty, so the line goes to the writer thread, whose wait is bounded ({@link Watchdog#WRITE_WAIT});
     * more starts than the pipe holds all return. Once the watchdog reads again, every line reaches it in the order
     * the starts were told, and a start's own thread writes its line again.
     */
    @Test
    void aStartNeverWaitsForAStoppedWatchdogAndItsLinesKeepTheirOrder() throws Exception {
        NativeSpawn.launcherOpened();
        try {
            LibC.bind();
            List<String[]> lines = java.util.Collections.synchronizedList(new ArrayList<>());
            watchdog = Watchdog.start("test-node", Duration.ofMinutes(10), b -> new WritersSeen(b.start(), lines));
            await().atMost(Duration.ofMinutes(2)).until(watchdog::isUp);
            watchdog.beating(false); // nor replaced for not reading: the beats' thread would do that
            long pid = watchdog.pid();
            stoppedPid = pid;
            signal("STOP", pid);
            await().atMost(Duration.ofMinutes(1)).until(() -> state(pid) == 'T');

            // About 150 KB of lines, more than twice what its pipe holds.
            List<String> told = java.util.Collections.synchronizedList(new ArrayList<>());
            java.util.concurrent.CompletableFuture<Void> starts = java.util.concurrent.CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 4000; i++) {
                    AttemptMarker marker = AttemptMarker.of(job("stopped-watchdog-start-" + i), 1);
                    told.add("R " + marker.value());
                    watchdog.running(marker);
                }
            });
            await().atMost(Duration.ofMinutes(2)).until(starts::isDone);
            starts.get();

            signal("CONT", pid);
            stoppedPid = -1;
            await().atMost(Duration.ofMinutes(2)).until(() -> startLines(lines).size() == told.size());
            assertThat(startLines(lines)).as("in the order they were told").containsExactlyElementsOf(told);
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                AttemptMarker marker = AttemptMarker.of(job("after-" + told.size()), 1);
                told.add("R " + marker.value());
                watchdog.running(marker);
                return Thread.currentThread().getName().equals(writerOf(lines, "R " + marker.value()));
            });
        } finally {
            NativeSpawn.launcherClosed();
        }
    }

    /** The name of the thread that wrote {@code line}, or null when it was not written (yet). */
    private static String writerOf(List<String[]> lines, String line) {
        synchronized (lines) {
            return lines.stream().filter(l -> l[0].equals(line)).map(l -> l[1]).findFirst().orElse(null);
        }
    }

    /** The start lines ({@code R}) written so far, in the order they were written. */
    private static List<String> startLines(List<String[]> lines) {
        synchronized (lines) {
            return lines.stream().map(l -> l[0]).filter(l -> l.startsWith("R ")).toList();
        }
    }

    /** A watchdog's process whose input records each line written to it with the name of the thread that wrote it. */
    private static final class WritersSeen extends ForwardingProcess {
        private final java.io.OutputStream out;

        WritersSeen(Process real, List<String[]> lines) {
            super(real);
            java.io.OutputStream to = real.getOutputStream();
            this.out = new java.io.OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    to.write(b, off, len);
                    // Each line is written whole, in one call.
                    String line = new String(b, off, len, java.nio.charset.StandardCharsets.US_ASCII).strip();
                    lines.add(new String[] {line, Thread.currentThread().getName()});
                }

                @Override
                public void flush() throws IOException {
                    to.flush();
                }

                @Override
                public void close() throws IOException {
                    to.close();
                }
            };
        }

        @Override
        public java.io.OutputStream getOutputStream() {
            return out;
        }

        @Override
        public java.io.InputStream getInputStream() {
            return real.getInputStream();
        }

        @Override
        protected void outputEnds() {
            // Nothing is held back.
        }
    }

    /** A kill waits for its report at most an eighth of the dead-node limit, 1 s to 10 s. */
    @Test
    void aKillWaitsForItsReportWellInsideTheTimeBeforeATakeover() {
        assertThat(NodeWatchdog.reportWaitMillis(Duration.ofMinutes(3).toMillis())).isEqualTo(10_000);
        assertThat(NodeWatchdog.reportWaitMillis(Duration.ofSeconds(40).toMillis())).isEqualTo(5_000);
        assertThat(NodeWatchdog.reportWaitMillis(Duration.ofSeconds(4).toMillis())).isEqualTo(1_000);
    }

    /** A running attempt, as {@link #attempt}, that the watchdog is told of with its first process. */
    private ProcessIdentity guarded(AttemptMarker marker) throws IOException {
        ProcessIdentity first = attempt(marker);
        watchdog.running(marker);
        watchdog.process(marker, first);
        return first;
    }

    /**
     * An attempt's tree: a shell in a session of its own that started two sleeps, one of which leaves
     * the session (setsid) and is found by the marker only.
     */
    private ProcessIdentity attempt(AttemptMarker marker) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "--", "/bin/sh", "-c",
                "sleep 600 & " + LauncherConfig.SETSID + " -f sleep 601 & wait");
        builder.environment().put(AttemptMarker.VARIABLE, marker.value());
        markers.add(marker);
        Process p = builder.start();
        started.add(p);
        await().atMost(Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(p.pid());
            return stat != null && stat.session() == p.pid() && Leftovers.find(marker, null).size() >= 3;
        });
        Set<Long> found = Leftovers.find(marker, null);
        assertThat(found).contains(p.pid());
        return ProcessIdentity.of(p.pid());
    }
}
