package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.slf4j.LoggerFactory;

/**
 * escape50 F1, the running node: each attempt's program is moved into a cgroup of its own right after its creation
 * ({@link AttemptCgroups}), with the native launch and with {@code setsid} (this class runs in both surefire
 * executions). A daemon that left the job's session, closed its descriptors and wrote its title over its environment is
 * ended with the job by its cgroup and named in the outcome, without this JVM being a subreaper (the WAR's case, and
 * a server started without {@code bin/buildhook}); the cgroup is removed at the attempt's end. Real processes, real
 * cgroups (root; {@link CgroupsRequired}).
 */
@EnabledOnOs(OS.LINUX)
class AttemptCgroupTest extends LauncherTest {

    private static final Pattern ONE_LEFTOVER = Pattern.compile(
            "exited with 0; 1 leftover process\\(es\\) terminated \\(1 had left the job's session: (\\d+) [^)]*\\)");

    @Test
    void aDaemonThatLeftEverythingOfItsJobIsEndedWithItByItsCgroup() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(TitledDaemon.PERL)), "needs perl");
        CgroupsRequired.require();
        assumeTrue(!Orphans.active(), "this JVM is no subreaper here (as in the WAR): only the cgroup finds it");
        Path flag = dir.resolve("up");
        String title = "cgroup51-" + UUID.randomUUID();
        String jobId = Fixtures.jobId("cgroup");
        // The daemon starts once the program is in its cgroup: one that detaches before the move is outside it, as
        // running-jobs.md says (on a loaded host the move can come tens of milliseconds after the start).
        RunningJob job = launcher.start(new JobRequest(jobId, 1, List.of("/bin/sh", "-c", "until grep -q"
                + " '^0::.*/buildhook-' /proc/$$/cgroup; do sleep 0.01; done; setsid "
                + TitledDaemon.PERL + " -e '$0 = $ENV{T} . (\".\" x 4000); open(my $f, \">\", $ENV{F}); close($f);"
                + " sleep 900' </dev/null >/dev/null 2>&1 & while [ ! -f \"$F\" ]; do sleep 0.05; done; exit 0"),
                Map.of("T", title, "F", flag.toString()), null, null, Duration.ofMinutes(10)));
        AttemptMarker marker = AttemptMarker.of(jobId, 1);

        JobOutcome outcome = job.outcome().get(5, TimeUnit.MINUTES);

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        Matcher named = ONE_LEFTOVER.matcher(outcome.message());
        assertThat(named.matches()).as("the daemon named as ended: %s", outcome.message()).isTrue();
        long daemon = Long.parseLong(named.group(1));
        await().atMost(Duration.ofMinutes(1)).until(() -> ProcessTree.isGone(daemon));
        assertThat(AttemptCgroups.cgroupsOf(marker)).as("its cgroup removed at its end").isEmpty();
    }

    @Test
    void anAttemptRefusedBeforeItsStartLeavesNoCgroup() throws Exception {
        CgroupsRequired.require();
        String jobId = Fixtures.jobId("refused");
        RunningJob job = launcher.start(new JobRequest(jobId, 1, List.of("/bin/true"), Map.of(), null, null,
                Duration.ofMinutes(10)), new StartGate() {
                    @Override
                    public <T> T pass(Spawn<T> spawn) throws java.io.IOException {
                        throw new Refused("not started: refused by the test");
                    }
                });

        assertThat(job.outcome().get(5, TimeUnit.MINUTES).result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(AttemptCgroups.cgroupsOf(AttemptMarker.of(jobId, 1))).isEmpty();
    }

    @Test
    void eachAttemptsCgroupIsNamedByItsJobAttemptAndStore() {
        String store = AttemptMarker.servedStore();
        try {
            AttemptMarker.serveStore(null);
            assertThat(AttemptCgroups.nameOf(AttemptMarker.of("01HZX4", 2))).isEqualTo("buildhook-01HZX4-2-0");
            assertThat(AttemptCgroups.nameOf(AttemptMarker.of("a-1/b", 3))).isEqualTo("buildhook-a_2d1_2fb-3-0");
            AttemptMarker.serveStore("installation ino:2049:1234");
            assertThat(AttemptCgroups.nameOf(AttemptMarker.of("01HZX4", 2))).matches("buildhook-01HZX4-2-[0-9a-f]{12}");
            assertThat(AttemptCgroups.nameOf(AttemptMarker.of("x".repeat(300), 1)))
                    .matches("buildhook-h[0-9a-f]{32}-1-[0-9a-f]{12}");
        } finally {
            AttemptMarker.serveStore(store);
        }
    }

    /**
     * review52 F4: with the JDK's launch (no native posix_spawn: glibc before 2.34, musl, -Dbuildhook.launch=setsid)
     * a command that exits at once is reaped by the JDK before its move, which the kernel refuses ("No such process"):
     * no WARN for it, as nothing of it is left to move. It WARNed that the job's processes are found by their session
     * and marker only, and, with one said-once flag for every message, hid every later WARN of the class.
     */
    @Test
    void aCommandReapedBeforeItsMoveIsNoWarning() throws Exception {
        CgroupsRequired.require();
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(AttemptCgroups.class);
        log.start();
        logger.addAppender(log);
        try {
            Path cgroup = AttemptCgroups.create(AttemptMarker.of(Fixtures.jobId("reaped"), 1));
            assertThat(cgroup).isNotNull();
            Process quick = new ProcessBuilder("/bin/true").start();
            assertThat(quick.waitFor(1, TimeUnit.MINUTES)).isTrue(); // reaped by the JDK, as its launch does at once
            AttemptCgroups.adopt(cgroup, quick.pid());
            assertThat(AttemptCgroups.end(cgroup)).isEmpty();
            assertThat(Files.exists(cgroup)).isFalse();
            synchronized (log) {
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                        .noneMatch(m -> m.contains("could not move a job's process"));
            }
        } finally {
            logger.detachAppender(log);
        }
    }

    /** review52 F4: a WARN said once hides only later ones of its own kind. */
    @Test
    void eachKindOfWarningIsSaidOnceOfItsOwn() {
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(AttemptCgroups.class);
        log.start();
        logger.addAppender(log);
        String kind = "test-" + UUID.randomUUID();
        try {
            AttemptCgroups.warnOnce(kind + "-a", "first of a");
            AttemptCgroups.warnOnce(kind + "-a", "second of a");
            AttemptCgroups.warnOnce(kind + "-b", "first of b");
            synchronized (log) {
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                        .filteredOn(m -> m.contains(" of a") || m.contains(" of b"))
                        .containsExactly("first of a (said once)", "first of b (said once)");
            }
        } finally {
            logger.detachAppender(log);
        }
    }

    /**
     * review53 F6: a process its job left in a cgroup the job made inside its attempt's, which SIGKILL does not end (here
     * frozen by the cgroup v1 freezer; as in uninterruptible sleep), held the attempt's end, on its job's thread, ten
     * seconds per cgroup of that subtree and twice that at each level (40 s here, two levels deep). Now the end returns
     * within its bound, says at WARN once which cgroup it leaves and what to do; the node's sweep removes it once its
     * process is gone.
     */
    @Test
    void anAttemptsEndIsBoundedWhenItsJobLeftAnUnkillableProcessInACgroupItMade() throws Exception {
        CgroupsRequired.require();
        Path freezer = Path.of("/sys/fs/cgroup/freezer");
        assumeTrue(Files.isWritable(freezer) && Files.isRegularFile(freezer.resolve("cgroup.procs")),
                "needs the cgroup v1 freezer (hybrid layout) to hold a process SIGKILL does not end");
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(AttemptCgroups.class);
        log.start();
        logger.addAppender(log);
        Path cgroup = AttemptCgroups.create(AttemptMarker.of(Fixtures.jobId("stuck"), 1));
        assertThat(cgroup).isNotNull();
        Path frozen = freezer.resolve("buildhook53-test-" + UUID.randomUUID());
        Files.createDirectory(frozen);
        Process stuck = new ProcessBuilder("sleep", "600").start();
        try {
            Path made = Files.createDirectories(cgroup.resolve("made-by-the-job").resolve("deeper"));
            Files.writeString(made.resolve("cgroup.procs"), stuck.pid() + "\n");
            Files.writeString(frozen.resolve("cgroup.procs"), stuck.pid() + "\n");
            Files.writeString(frozen.resolve("freezer.state"), "FROZEN\n");
            await().atMost(Duration.ofMinutes(1)).until(() -> Files.readString(frozen.resolve("freezer.state"))
                    .trim().equals("FROZEN"));

            long before = System.nanoTime();
            List<String> named = AttemptCgroups.end(cgroup);
            Duration took = Duration.ofNanos(System.nanoTime() - before);

            // Its bound is 10 s; before, 40 s. The margin is for a loaded host, not a measure of speed.
            assertThat(took).as("the end's bound held").isLessThan(Duration.ofSeconds(25));
            assertThat(named).contains(stuck.pid() + " sleep");
            assertThat(stuck.isAlive()).as("frozen: SIGKILL pending").isTrue();
            assertThat(Files.isDirectory(cgroup)).as("left behind").isTrue();
            synchronized (log) {
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                        .filteredOn(m -> m.contains(cgroup.toString()) && m.contains("left behind"))
                        .singleElement().asString().contains(stuck.pid() + " sleep (state ")
                        .contains("rmdir").contains("THAWED");
            }
            AttemptCgroups.endLeftBehind(); // still there: killed again, not removed
            assertThat(Files.isDirectory(cgroup)).isTrue();

            Files.writeString(frozen.resolve("freezer.state"), "THAWED\n");
            assertThat(stuck.waitFor(1, TimeUnit.MINUTES)).as("ended by its pending SIGKILL once thawed").isTrue();
            await().atMost(Duration.ofMinutes(1)).until(() -> {
                AttemptCgroups.endLeftBehind();
                return !Files.exists(cgroup);
            });
        } finally {
            logger.detachAppender(log);
            Files.writeString(frozen.resolve("freezer.state"), "THAWED\n");
            stuck.destroyForcibly().waitFor(1, TimeUnit.MINUTES);
            AttemptCgroups.end(cgroup);
            await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> {
                Files.deleteIfExists(frozen);
                return true;
            });
        }
    }

    /**
     * review53 F7: a node that runs inside another buildhook's attempt (a test or staging buildhook a job started)
     * makes its attempts' cgroups in its own, that attempt's cgroup, whose children the look over the hierarchy did
     * not go into: it never found them again; and it took the other buildhook's attempts of the same job id and attempt
     * for its own, its own attempt's among them (killed with this node in it). Each node finds exactly its own.
     */
    @Test
    void aProcessSeventeenCgroupsBelowItsAttemptsIsEndedWithIt() throws Exception {
        // review54 F4: the member list looks 16 cgroups deep; one deeper was never killed, its cgroup left for ever.
        CgroupsRequired.require();
        Path cgroup = AttemptCgroups.create(AttemptMarker.of(Fixtures.jobId("deep"), 1));
        assertThat(cgroup).isNotNull();
        Path deep = cgroup;
        for (int i = 0; i < 17; i++) {
            deep = deep.resolve("d" + i);
        }
        Files.createDirectories(deep);
        Process sleeper = new ProcessBuilder("sleep", "600").start();
        try {
            Files.writeString(deep.resolve("cgroup.procs"), sleeper.pid() + "\n");

            AttemptCgroups.end(cgroup);

            assertThat(sleeper.waitFor(1, TimeUnit.MINUTES)).as("the job's process ended with its attempt").isTrue();
            assertThat(cgroup).as("its cgroups removed").doesNotExist();
        } finally {
            sleeper.destroyForcibly().waitFor(1, TimeUnit.MINUTES);
            AttemptCgroups.end(cgroup);
        }
    }

    @Test
    void aNodeInAnotherBuildhooksAttemptFindsItsOwnAttemptsCgroupsAndNoneOfTheOthers() throws Exception {
        CgroupsRequired.require();
        Path home = AttemptCgroups.base();
        AttemptMarker outer = AttemptMarker.of(Fixtures.jobId("outer"), 1);
        AttemptMarker inner = AttemptMarker.of(Fixtures.jobId("inner"), 1);
        // The other buildhook, here in this JVM's cgroup: the attempt that started this node, and one of its attempts
        // with the job id and attempt of this node's.
        Path outerAttempt = Files.createDirectory(home.resolve(AttemptCgroups.nameOf(outer)));
        Path outerSameName = Files.createDirectory(home.resolve(AttemptCgroups.nameOf(inner)));
        Path made = null;
        try {
            moveThisJvm(outerAttempt);
            assertThat(AttemptCgroups.whyNot()).isNull();
            made = AttemptCgroups.create(inner);
            assertThat(made).isEqualTo(outerAttempt.resolve(AttemptCgroups.nameOf(inner)));

            assertThat(AttemptCgroups.cgroupsOf(inner)).as("its own, not the other's").containsExactly(made);
            assertThat(AttemptCgroups.cgroupsOf(outer)).as("never the cgroup it runs in").isEmpty();

            moveThisJvm(home); // the other buildhook's view
            assertThat(AttemptCgroups.cgroupsOf(inner)).containsExactly(outerSameName);
            assertThat(AttemptCgroups.cgroupsOf(outer)).containsExactly(outerAttempt);
        } finally {
            moveThisJvm(home);
            for (Path cgroup : java.util.Arrays.asList(made, outerAttempt, outerSameName)) {
                removeEmpty(cgroup);
            }
        }
    }

    /**
     * review53 F8: a node that runs in a systemd unit's cgroup ({@code *.service}, {@code *.scope}) that systemd did not
     * delegate to it makes no cgroups there, as root with a writable cgroup file system all the same: systemd owns that
     * subtree. Delegation is seen by the attribute systemd 251 and later set for {@code Delegate=yes},
     * {@code trusted.delegate} or {@code user.delegate}, on the unit's cgroup. Real cgroups, real attributes
     * ({@code setfattr}, Debian's {@code attr}).
     */
    @Test
    void aNodeInASystemdUnitsCgroupMakesNoneUnlessTheUnitIsDelegated() throws Exception {
        CgroupsRequired.require();
        boolean setfattr = Files.isExecutable(Path.of("/usr/bin/setfattr"));
        if (!setfattr && "true".equals(System.getenv("CI"))) {
            org.assertj.core.api.Assertions.fail("CI=true without setfattr: apt-get install attr");
        }
        assumeTrue(setfattr, "needs setfattr (attr)");
        Path home = AttemptCgroups.base();
        Path slice = Files.createDirectory(home.resolve("bh53test-" + UUID.randomUUID() + ".slice"));
        Path unit = Files.createDirectory(slice.resolve("buildhook.service"));
        Path payload = Files.createDirectory(unit.resolve("payload"));
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(AttemptCgroups.class);
        log.start();
        logger.addAppender(log);
        try {
            moveThisJvm(unit);
            assertThat(AttemptCgroups.whyNot()).as("not delegated").isNotNull().contains(unit.toString())
                    .contains("Delegate=yes");
            synchronized (log) {
                assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                        .anyMatch(m -> m.startsWith("jobs' processes are not put in cgroups of their own: it runs in"
                                + " the cgroup " + unit) && m.contains("Delegate=yes"));
            }
            setfattr(unit, "trusted.delegate", "1");
            moveThisJvm(unit);
            assertThat(AttemptCgroups.whyNot()).as("trusted.delegate").isNull();
            setfattr(unit, "trusted.delegate", "0");
            moveThisJvm(unit);
            assertThat(AttemptCgroups.whyNot()).as("trusted.delegate 0").isNotNull();
            setfattr(unit, "user.delegate", "1");
            moveThisJvm(payload);
            assertThat(AttemptCgroups.whyNot()).as("user.delegate, from a cgroup below the unit's").isNull();
            setfattr(unit, "user.delegate", "0");
            moveThisJvm(payload);
            assertThat(AttemptCgroups.whyNot()).as("below the unit's, not delegated").isNotNull()
                    .contains(unit.toString());

            Path plain = AttemptCgroups.hierarchy();
            assertThat(AttemptCgroups.systemdUnitNotDelegated(plain, slice, false)).as("a slice is no unit").isNull();
            assertThat(AttemptCgroups.systemdUnitNotDelegated(unit, unit, true))
                    .as("a unit's cgroup seen from a cgroup namespace: INVOCATION_ID").contains("INVOCATION_ID");
            assertThat(AttemptCgroups.systemdUnitNotDelegated(unit, unit, false)).isNull();
        } finally {
            logger.detachAppender(log);
            moveThisJvm(home);
            for (Path cgroup : List.of(payload, unit, slice)) {
                removeEmpty(cgroup);
            }
        }
    }

    /** Moves this JVM into {@code cgroup} (root) and has attempts' cgroups decided again there. */
    private static void moveThisJvm(Path cgroup) throws java.io.IOException {
        Files.writeString(cgroup.resolve("cgroup.procs"), ProcessHandle.current().pid() + "\n");
        AttemptCgroups.reset();
    }

    /** Removes a test's cgroup (empty: this JVM moved out of it); never cgroup.kill, which could end this JVM. */
    private static void removeEmpty(Path cgroup) {
        if (cgroup != null) {
            await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> {
                Files.deleteIfExists(cgroup);
                return true;
            });
        }
    }

    private static void setfattr(Path path, String name, String value) throws Exception {
        Process set = new ProcessBuilder("setfattr", "-n", name, "-v", value, path.toString()).redirectErrorStream(true)
                .start();
        String said = new String(set.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(set.waitFor()).as("setfattr %s: %s", name, said).isZero();
    }
}
