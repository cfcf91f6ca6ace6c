package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.buildhook.core.BuildEvent;
import org.buildhook.runner.PlannedJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class RulesWatcherTest {

    private static final Duration POLL = Duration.ofMillis(100);
    private static final BuildEvent SEED = TestEvents.seed();

    @TempDir
    Path dir;

    private final List<RuleSet> reloaded = new CopyOnWriteArrayList<>();
    private final List<RuleException> refused = new CopyOnWriteArrayList<>();
    private final RulesWatcher.Listener listener = new RulesWatcher.Listener() {
        @Override
        public void reloaded(RuleSet rules) {
            reloaded.add(rules);
        }

        @Override
        public void refused(RuleException error) {
            refused.add(error);
        }

        @Override
        public void validAgain(RuleSet rules) {
            validAgain.add(rules);
        }
    };
    private final List<RuleSet> validAgain = new CopyOnWriteArrayList<>();

    private static String rules(String prefix, int count) {
        return "rules:\n" + IntStream.rangeClosed(1, count)
                .mapToObj(i -> "  - name: " + prefix + "-" + i + "\n    run: {command: [/bin/echo, \"" + prefix + "\"]}\n")
                .collect(Collectors.joining());
    }

    /** Writes next to the file, then renames over it, as editors and git do. */
    private void replace(Path file, String content) throws IOException {
        Path temp = Files.createTempFile(dir, "rules", ".tmp");
        Files.writeString(temp, content);
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private Path rulesFile(String content) throws IOException {
        Path file = dir.resolve("rules.yaml");
        Files.writeString(file, content);
        return file;
    }

    @Test
    void putsAFileRenamedOverTheOldOneInForce() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            assertThat(watcher.current().ruleNames()).containsExactly("old-1");

            replace(file, rules("new", 2));

            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("new-1", "new-2")));
            // The listener is told after the new rules are in force: waited for, not counted at once (fix50c saw it
            // counted before it ran, at load).
            await().atMost(Duration.ofSeconds(10)).until(() -> !reloaded.isEmpty());
            assertThat(reloaded).hasSize(1);
            assertThat(watcher.lastError()).isEmpty();
        }
    }

    @Test
    void aFileSavedUnchangedKeepsTheLoadedVersion() throws IOException {
        Path file = rulesFile(rules("same", 2));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            RuleSet before = watcher.current();

            replace(file, "# a comment changes nothing\n" + rules("same", 2));

            assertThat(watcher.checkNow()).isFalse();
            assertThat(watcher.current()).isSameAs(before);
            assertThat(reloaded).isEmpty();
        }
    }

    /**
     * Rules are checked, and their jobs planned, in file order, and a node's rules fingerprint counts the
     * order: a version that only reorders the rules is a change, put in force. Before, it was taken for
     * the file saved unchanged (the snapshots compared as maps), so the node kept the old order and the
     * old fingerprint until a restart, and a node restarted with the same file was said to run other
     * rules, with "reload it there" as the remedy, which did nothing (review18).
     */
    @Test
    void aVersionThatOnlyReordersTheRulesIsPutInForce() throws IOException {
        String first = "  - name: build\n    run: {command: [/bin/echo, build]}\n";
        String second = "  - name: notify\n    run: {command: [/bin/echo, notify]}\n";
        Path file = rulesFile("rules:\n" + first + second);
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, Duration.ofHours(1), listener)) {
            replace(file, "rules:\n" + second + first);

            // The watcher's thread may see the rename's event and put the version in force before this
            // call does (then checkNow finds nothing new): what counts is that it is in force, once.
            watcher.checkNow();

            assertThat(watcher.current().ruleNames()).containsExactly("notify", "build");
            assertThat(reloaded).hasSize(1);
            assertThat(RulesFingerprint.of(watcher.current()))
                    .isEqualTo(RulesFingerprint.of(TestRules.LOADER.parse(file, "rules:\n" + second + first)));
        }
    }

    /**
     * tryout47 F3: a file written in place in two chunks 0.4 s apart (a writer on a loaded host, scp, a paste), its
     * first chunk a valid file with fewer rules. 50 ms of quiet put that half in force, and the rules of the unwritten
     * half were taken out, their queued jobs cancelled for good, although the whole file was the old one again 0.4 s
     * later. A file written in place is read only once this node has seen it unchanged for the quiet time, by its own
     * clock (and its time is that old), and a look then agrees: the half is never put in force, also when the file's
     * time is of a clock behind this node's (review47 F1). The settle here is 250 ms, so the quiet time (5 s) stays far above the writer's pause
     * however slowly this machine runs the test.
     */
    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void aFileWrittenInPlaceInTwoChunksIsNeverPutInForceHalfWay(boolean timeOfAClockBehind) throws Exception {
        String whole = rules("kept", 5);
        Path file = rulesFile(whole);
        String half = whole.substring(0, whole.indexOf("  - name: kept-3"));
        assertThat(TestRules.LOADER.parse(file, half).ruleNames()).as("the first chunk is a valid file")
                .containsExactly("kept-1", "kept-2");
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, Duration.ofHours(1),
                Duration.ofMillis(250), Duration.ofSeconds(5), listener)) {
            try (java.io.Writer out = Files.newBufferedWriter(file)) {
                out.write(half);
                out.flush();
                if (timeOfAClockBehind) {
                    // review47 F1: the time an NFS server behind this node's clock writes (or a coarse one) read as
                    // "changed long ago" shortened the quiet to nothing.
                    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
                            java.time.Instant.now().minusSeconds(10)));
                }
                // Two looks of the watcher after the first chunk is on disk agree: it has settled. Before, the watcher
                // read it right then.
                long before = watcher.glances();
                await().atMost(Duration.ofMinutes(1)).until(() -> watcher.glances() >= before + 2);
                out.write(whole.substring(half.length()));
            }
            if (timeOfAClockBehind) {
                Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
                        java.time.Instant.now().minusSeconds(9)));
            }

            watcher.checkNow(); // waits for the watcher's own look at the file to end

            assertThat(reloaded).as("no half version put in force").isEmpty();
            assertThat(refused).isEmpty();
            assertThat(watcher.current().ruleNames()).hasSize(5);
        }
    }

    @Test
    void checkNowPutsAChangedFileInForceAtOnce() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, Duration.ofHours(1), listener)) {
            replace(file, rules("new", 1));

            watcher.checkNow();

            assertThat(watcher.current().ruleNames()).containsExactly("new-1");
        }
    }

    @Test
    void seesAFileWrittenInPlace() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            Files.writeString(file, rules("edited", 1));

            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("edited-1")));
        }
    }

    @Test
    void refusesAnInvalidVersionKeepsTheOldRulesAndRemembersWhy() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            RuleSet before = watcher.current();

            replace(file, "rules:\n  - name: broken\n    run: {comand: [/bin/true]}\n");

            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.lastError().isPresent());
            assertThat(watcher.current()).isSameAs(before);
            assertThat(watcher.current().match("default", SEED)).extracting(PlannedJob::ruleName).containsExactly("old-1");
            assertThat(watcher.lastError().get().getMessage())
                    .isEqualTo(file + ":3:11: unknown key 'comand' in run (did you mean 'command'?)");
            assertThat(refused).hasSize(1);

            replace(file, rules("fixed", 1));

            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("fixed-1")));
            assertThat(watcher.lastError()).isEmpty();
        }
    }

    /**
     * The refusal and the "valid again" lines name when the rules in force were loaded to the
     * millisecond, as every other time in the log, not with the clock's nanoseconds
     * ({@code 2026-11-30T16:25:21.300841397Z}, found by tryout8).
     */
    @Test
    void theRefusedAndValidAgainLinesGiveTheLoadTimeToTheMillisecond() throws IOException {
        WatcherLog log = new WatcherLog();
        Path file = rulesFile(rules("old", 1));
        RuleSetLoader loader = new RuleSetLoader(java.time.Clock.fixed(
                java.time.Instant.parse("2026-11-30T16:25:21.300841397Z"), java.time.ZoneOffset.UTC));
        try (RulesWatcher watcher = RulesWatcher.start(file, loader, Duration.ofHours(1), listener)) {
            replace(file, "rules:\n  - name: a b\n    run: {command: [/bin/true]}\n");
            watcher.checkNow();
            replace(file, rules("old", 1));
            watcher.checkNow();
        } finally {
            log.close();
        }

        List<String> lines = log.lines();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("refused; the rules loaded at");
        assertThat(lines.get(1)).contains("is valid again");
        for (String line : lines) {
            assertThat(line).as(line).contains("loaded at 2026-11-30T16:25:21.300Z");
        }
    }

    /**
     * An edit in two steps (a try-out's {@code sed -i} then {@code >>}) is two refused versions; the
     * second's log lists what is new in it, not again the problems the first one's listed.
     */
    @Test
    void aSecondRefusedVersionListsOnlyItsNewProblemsSoEachIsLoggedOnce() throws IOException {
        WatcherLog log = new WatcherLog();
        Path file = rulesFile(rules("old", 1));
        String twoMistakes = "rules:\n  - name: a b\n    run:\n      comand: [/bin/true]\n";
        String oneFixedTwoMore = "rules:\n  - name: a-b\n    run:\n      comand: [/bin/true]\n"
                + "  - name: c\n    when: {statuss: x}\n";
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, Duration.ofHours(1), listener)) {
            replace(file, twoMistakes);
            watcher.checkNow();
            replace(file, twoMistakes + "  - name: c\n    when: {statuss: x}\n");
            watcher.checkNow();
            replace(file, oneFixedTwoMore);
            watcher.checkNow();
        } finally {
            log.close();
        }

        List<String> lines = log.lines();
        String all = String.join("\n", lines);
        for (String problem : List.of(":2:11: bad rule name 'a b'", ":4:7: unknown key 'comand' in run",
                ":5:5: rule 'c' has no 'run'", ":6:12: unknown key 'statuss' in when")) {
            assertThat(all.split(java.util.regex.Pattern.quote(problem), -1)).as(problem + " in\n" + all).hasSize(2);
        }
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).contains("changed and is still refused", "2 problem(s) listed before remain, 0 fixed");
        assertThat(lines.get(2)).contains("3 problem(s) listed before remain, 1 fixed")
                .doesNotContain("\n");
        assertThat(refused).hasSize(3);
    }

    /**
     * A refused version edited above its mistake (a comment added at the top) has the same problem at
     * another line: it remains, counted as moved, and is not listed again as new; a new mistake made
     * in the same edit is (review nit: a moved problem was logged again as new).
     */
    @Test
    void aProblemThatOnlyMovedToAnotherLineRemainsAndIsNotListedAgainAsNew() throws IOException {
        WatcherLog log = new WatcherLog();
        Path file = rulesFile(rules("old", 1));
        String oneMistake = "rules:\n  - name: a\n    run:\n      comand: [/bin/true]\n";
        List<Problem> inForce;
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, Duration.ofHours(1), listener)) {
            replace(file, oneMistake);
            watcher.checkNow();
            replace(file, "# moved down by this line\n" + oneMistake);
            watcher.checkNow();
            replace(file, "# moved down by this line\n\n" + oneMistake + "  - name: c\n    when: {statuss: x}\n");
            watcher.checkNow();
            inForce = watcher.lastError().orElseThrow().problems();
        } finally {
            log.close();
        }

        List<String> lines = log.lines();
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains(":4:7: unknown key 'comand' in run");
        assertThat(lines.get(1)).contains("changed and is still refused",
                "1 problem(s) listed before remain (1 of them now at another line or column), 0 fixed")
                .doesNotContain("comand").doesNotContain("\n");
        assertThat(lines.get(2)).contains("1 problem(s) listed before remain (1 of them now at another line or column)",
                "0 fixed", "new:", ":8:12: unknown key 'statuss' in when").doesNotContain("comand");
        assertThat(inForce).extracting(Problem::toString)
                .anyMatch(p -> p.contains(":6:7: unknown key 'comand' in run"));
    }

    /**
     * The usual fix of a refused edit is to revert it: the file is then the same as the rules in
     * force, nothing is reloaded, but the refusal is over (a try-out saw the metric stay 1 for ever).
     */
    @Test
    void revertingARefusedEditEndsTheRefusalWithoutAReload() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            RuleSet before = watcher.current();
            replace(file, "rules:\n  - name: broken\n    run: {comand: [/bin/true]}\n");
            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.lastError().isPresent());

            replace(file, rules("old", 1));

            await().atMost(Duration.ofSeconds(10)).until(() -> !validAgain.isEmpty());
            assertThat(watcher.lastError()).isEmpty();
            assertThat(watcher.current()).isSameAs(before);
            assertThat(validAgain).containsExactly(before);
            assertThat(reloaded).isEmpty();
        }
    }

    @Test
    void followsASymlinkSwappedToAnotherTarget() throws IOException {
        Path v1 = Files.createDirectories(dir.resolve("v1")).resolve("rules.yaml");
        Path v2 = Files.createDirectories(dir.resolve("v2")).resolve("rules.yaml");
        Files.writeString(v1, rules("v1", 1));
        Files.writeString(v2, rules("v2", 1));
        Path link = Files.createSymbolicLink(dir.resolve("rules.yaml"), v1);
        try (RulesWatcher watcher = RulesWatcher.start(link, TestRules.LOADER, POLL, listener)) {
            assertThat(watcher.current().ruleNames()).containsExactly("v1-1");

            Path newLink = Files.createSymbolicLink(dir.resolve("rules.yaml.new"), v2);
            Files.move(newLink, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("v2-1")));
        }
    }

    @Test
    void refusesToStartOnAnInvalidFile() throws IOException {
        Path file = rulesFile("rules:\n  - name: x\n");

        assertThatThrownBy(() -> RulesWatcher.start(file, TestRules.LOADER, POLL, listener))
                .isInstanceOf(RuleException.class)
                .hasMessageContaining("has no 'run'");
    }

    @Test
    void runsOneNamedDaemonThreadUntilClosed() throws IOException {
        Path file = rulesFile(rules("old", 1));
        RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener);
        List<Thread> threads = watcherThreads();
        assertThat(threads).hasSize(1);
        assertThat(threads.get(0).isDaemon()).isTrue();

        watcher.close();

        assertThat(threads.get(0).isAlive()).isFalse();
        assertThat(watcherThreads()).isEmpty();
    }

    @Test
    void everyDeliveryDuringSwapsIsMatchedWhollyByOneVersion() throws Exception {
        Path file = rulesFile(rules("old", 5));
        Set<String> oldNames = Set.of("old-1", "old-2", "old-3", "old-4", "old-5");
        Set<String> newNames = Set.of("new-1", "new-2", "new-3", "new-4", "new-5");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        AtomicBoolean swapping = new AtomicBoolean(true);
        ConcurrentLinkedQueue<List<String>> mixed = new ConcurrentLinkedQueue<>();
        AtomicInteger matched = new AtomicInteger();
        AtomicInteger sawNew = new AtomicInteger();
        AtomicInteger sawOld = new AtomicInteger();
        CountDownLatch started = new CountDownLatch(4);
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            List<Future<?>> deliveries = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                deliveries.add(pool.submit(() -> {
                    started.countDown();
                    while (swapping.get()) {
                        RuleSet rules = watcher.current(); // once per delivery, as the servlet does
                        List<PlannedJob> jobs = rules.match("default", SEED);
                        List<String> names = jobs.stream().map(PlannedJob::ruleName).toList();
                        List<String> echoed = jobs.stream().map(j -> j.argv().get(1)).distinct().toList();
                        Set<String> asSet = Set.copyOf(names);
                        if (names.size() != 5 || !(asSet.equals(oldNames) || asSet.equals(newNames)) || echoed.size() != 1) {
                            mixed.add(names);
                        }
                        if (asSet.equals(newNames)) {
                            sawNew.incrementAndGet();
                        } else {
                            sawOld.incrementAndGet();
                        }
                        matched.incrementAndGet();
                    }
                }));
            }
            started.await(10, TimeUnit.SECONDS);
            for (int swap = 0; swap < 6; swap++) {
                String prefix = swap % 2 == 0 ? "new" : "old";
                replace(file, rules(prefix, 5));
                await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().get(0).equals(prefix + "-1"));
                // Let deliveries run against this version before the next swap.
                AtomicInteger seen = prefix.equals("new") ? sawNew : sawOld;
                int before = seen.get();
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.get() > before + 100);
            }
            swapping.set(false);
            for (Future<?> f : deliveries) {
                f.get(10, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(mixed).isEmpty();
        assertThat(reloaded).hasSize(6);
        assertThat(sawNew.get()).isGreaterThan(300);
        assertThat(matched.get()).isEqualTo(sawNew.get() + sawOld.get());
    }

    private static List<Thread> watcherThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals(RulesWatcher.THREAD_NAME) && t.isAlive())
                .toList();
    }

    @Test
    void onlyEventsOnTheRulesFileItselfForceItsContentToBeRead() throws IOException {
        Path file = rulesFile(rules("a", 1));
        Path link = dir.resolve("linked.yaml");
        Files.createSymbolicLink(link, file);

        assertThat(RulesWatcher.concernsTheFile(file, List.of(event(StandardWatchEventKinds.ENTRY_MODIFY, "rules.yaml"))))
                .isTrue();
        assertThat(RulesWatcher.concernsTheFile(file, List.of(event(StandardWatchEventKinds.ENTRY_MODIFY, "serve.out"),
                event(StandardWatchEventKinds.ENTRY_CREATE, "rules.yaml")))).isTrue();
        assertThat(RulesWatcher.concernsTheFile(file, List.of(event(StandardWatchEventKinds.OVERFLOW, null)))).isTrue();
        assertThat(RulesWatcher.concernsTheFile(file, List.of(event(StandardWatchEventKinds.ENTRY_MODIFY, "serve.out"))))
                .as("a log written next to the rules only causes a look at size and time").isFalse();
        assertThat(RulesWatcher.concernsTheFile(link, List.of(event(StandardWatchEventKinds.ENTRY_CREATE, "..data"))))
                .as("a symlink's target may move with any sibling").isTrue();
        assertThat(RulesWatcher.concernsTheFile(file, List.of())).isFalse();
    }

    @Test
    void aFileWrittenNextToTheRulesLeavesTheRulesAsTheyAre() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            Path log = dir.resolve("serve.out");
            for (int i = 0; i < 50; i++) {
                Files.writeString(log, "line " + i + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
            replace(file, rules("new", 1));
            // The listener hears of a new version just after it is in force: wait for both.
            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("new-1"))
                    && !reloaded.isEmpty());
            assertThat(reloaded).hasSize(1);
            assertThat(refused).isEmpty();
        }
    }

    @Test
    void aLogWrittenNextToTheRulesCostsAtMostOneLookPerSettleTimeNotOnePerLine() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            Path log = dir.resolve("serve.out");
            long start = System.nanoTime();
            long before = watcher.looks();
            for (int i = 0; i < 2000; i++) {
                Files.writeString(log, "line " + i + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
            long looks = watcher.looks() - before;
            long elapsed = System.nanoTime() - start;
            // Each look after an event is followed by SETTLE of rest; a look without one waits for POLL.
            assertThat(looks).as("looks at the rules file during %d ms of 2,000 log lines", elapsed / 1_000_000)
                    .isLessThanOrEqualTo(2 + elapsed / RulesWatcher.SETTLE.toNanos());
            assertThat(watcher.current().ruleNames()).containsExactly("old-1");
        }
    }

    /** A log next to the rules file, written line after line by a thread of its own until closed. */
    private static final class GrowingLog implements AutoCloseable {
        private final AtomicBoolean writing = new AtomicBoolean(true);
        private final Thread writer;

        /** Starts writing {@code log} and returns once it holds 10,000 bytes: the folder is busy. */
        GrowingLog(Path log) {
            writer = new Thread(() -> {
                for (int i = 0; writing.get(); i++) {
                    try {
                        Files.writeString(log, "line " + i + "\n", java.nio.file.StandardOpenOption.CREATE,
                                java.nio.file.StandardOpenOption.APPEND);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }
            });
            writer.start();
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(log) && Files.size(log) > 10_000);
        }

        @Override
        public void close() throws InterruptedException {
            writing.set(false);
            writer.join();
        }
    }

    @Test
    void anEditInPlaceOfTheSameSizeIsPutInForceWhileALogNextToTheRulesKeepsGrowing() throws Exception {
        Path file = rulesFile(rules("aaa", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener);
                GrowingLog log = new GrowingLog(dir.resolve("serve.out"))) {
            Files.writeString(file, rules("bbb", 1)); // in place, same size: only its content tells

            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("bbb-1")));
        }
    }

    /** The two ways a rules file is briefly missing while it is replaced. */
    enum Replacement {
        /** As some deploy tools and editors do: delete, then create and write. */
        DELETE_AND_CREATE,
        /** Moved away (to keep a backup), then the new version moved in. */
        MOVE_AWAY_AND_MOVE_IN
    }

    /**
     * A file replaced by delete and create (or moved away, then the new one moved in) is missing for a
     * moment: that is no mistake to report. The watcher is let see it missing on two looks a quiet time
     * apart (what used to be enough to read it, and refuse it) before it comes back.
     */
    @ParameterizedTest
    @EnumSource(Replacement.class)
    void aFileBrieflyMissingWhileItIsReplacedIsNotRefused(Replacement replacement) throws IOException {
        Path file = rulesFile(rules("old", 1));
        // A quiet time of 500 ms waits 20 s for the file to come back: far more than this test takes to.
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, Duration.ofMillis(500), listener)) {
            if (replacement == Replacement.DELETE_AND_CREATE) {
                Files.delete(file);
            } else {
                Files.move(file, dir.resolve("rules.yaml.bak"));
            }
            // The first look counted may have begun before the file went: two more began after.
            long before = watcher.glances();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                    .until(() -> watcher.glances() >= before + 3);
            if (replacement == Replacement.DELETE_AND_CREATE) {
                Files.writeString(file, rules("new", 1));
            } else {
                Path next = Files.writeString(dir.resolve("rules.yaml.new"), rules("new", 1));
                Files.move(next, file, StandardCopyOption.ATOMIC_MOVE);
            }

            // The watcher puts the new rules in force, then tells the listener: wait for the telling.
            await().atMost(Duration.ofSeconds(30)).until(() -> !reloaded.isEmpty());
            assertThat(watcher.current().ruleNames()).containsExactly("new-1");
            assertThat(refused).isEmpty();
            assertThat(watcher.lastError()).isEmpty();
            assertThat(reloaded).hasSize(1);
        }
    }

    @Test
    void aFileThatStaysMissingIsRefusedOnceSayingWhatToDoAndTheRulesStayInForce() throws IOException {
        Path file = rulesFile(rules("old", 1));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            RuleSet before = watcher.current();

            Files.delete(file);

            await().atMost(Duration.ofSeconds(30)).until(() -> !refused.isEmpty());
            assertThat(refused.get(0)).isInstanceOf(UnreadableRulesException.class);
            assertThat(refused.get(0).getMessage()).isEqualTo(file + ": the rules file is missing: it was deleted or "
                    + "moved away and did not come back within 2s. Put the rules file back at this path (best written "
                    + "next to it, then renamed over it) to change the rules");
            assertThat(watcher.lastError()).containsSame(refused.get(0));
            assertThat(watcher.current()).isSameAs(before);
            assertThat(watcher.checkNow()).isFalse();
            assertThat(refused).hasSize(1);

            replace(file, rules("old", 1));

            await().atMost(Duration.ofSeconds(30)).until(() -> !validAgain.isEmpty());
            assertThat(watcher.lastError()).isEmpty();
            assertThat(watcher.current()).isSameAs(before);
        }
    }

    /**
     * While a log next to the rules keeps growing, the rules file's own events are not watched for
     * part of the time; an edit in place found then must still wait for the quiet time before it is
     * read, not be read half-written (and refused, or worse, put in force half).
     */
    @Test
    void anEditInPlaceFoundAfterALogLineNextToTheRulesIsReadOnlyOnceWhole() throws Exception {
        Path file = rulesFile(rules("old", 1));
        // The rest of the edit follows the watcher's first look at the half within far less than 2 s.
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, Duration.ofSeconds(2), listener);
                GrowingLog log = new GrowingLog(dir.resolve("serve.out"))) {
            String edit = rules("new", 1);
            int half = edit.indexOf("    run:");
            long before = watcher.glances();
            try (java.io.OutputStream out = Files.newOutputStream(file)) { // in place: truncated, then written
                out.write(edit.substring(0, half).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5))
                        .until(() -> watcher.glances() > before);
                out.write(edit.substring(half).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }

            await().atMost(Duration.ofSeconds(60)).until(() -> watcher.current().ruleNames().equals(List.of("new-1"))
                    && !reloaded.isEmpty()); // the listener is told just after the rules are in force
            assertThat(refused).isEmpty();
            assertThat(reloaded).hasSize(1);
        }
    }

    private static WatchEvent<Path> event(WatchEvent.Kind<?> kind, String name) {
        return new WatchEvent<>() {
            @Override
            @SuppressWarnings("unchecked")
            public Kind<Path> kind() {
                return (Kind<Path>) kind;
            }

            @Override
            public int count() {
                return 1;
            }

            @Override
            public Path context() {
                return name == null ? null : Path.of(name);
            }
        };
    }

    @Test
    void aFileEmptiedInPlaceKeepsTheRulesInForceUntilItIsWrittenAgain() throws IOException {
        Path file = rulesFile(rules("old", 2));
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, listener)) {
            Files.writeString(file, "");
            await().atMost(Duration.ofSeconds(10)).until(() -> !refused.isEmpty());
            assertThat(refused.get(0).getMessage()).contains("the rules file is empty");
            assertThat(watcher.current().ruleNames()).containsExactly("old-1", "old-2");

            Files.writeString(file, rules("new", 1));
            await().atMost(Duration.ofSeconds(10)).until(() -> watcher.current().ruleNames().equals(List.of("new-1")));
        }
    }

    /**
     * tryout13 F3: {@code cat > rules.yaml} truncates the file, then writes it; on a loaded machine the
     * empty file stayed quiet for longer than the quiet time, and was refused (an ERROR and the status
     * page's banner) before the new version, 100 ms later, was put in force. An empty file is waited for
     * as a missing one is.
     */
    @Test
    void aFileTruncatedAndThenWrittenInPlaceIsNotRefusedWhileItIsEmpty() throws IOException {
        Path file = rulesFile(rules("old", 1));
        // A quiet time of 500 ms waits 20 s for the file to be written: far more than this test takes to.
        try (RulesWatcher watcher = RulesWatcher.start(file, TestRules.LOADER, POLL, Duration.ofMillis(500), listener)) {
            Files.writeString(file, "");
            // The first look counted may have begun before the truncation: two more began after.
            long before = watcher.glances();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5))
                    .until(() -> watcher.glances() >= before + 3);
            Files.writeString(file, rules("new", 1));

            await().atMost(Duration.ofSeconds(30)).until(() -> !reloaded.isEmpty());
            assertThat(watcher.current().ruleNames()).containsExactly("new-1");
            assertThat(refused).isEmpty();
            assertThat(reloaded).hasSize(1);
        }
    }

    /** The watcher's log lines from its making until {@link #close}. */
    private static final class WatcherLog implements AutoCloseable {

        private final ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger)
                org.slf4j.LoggerFactory.getLogger(RulesWatcher.class);
        private final ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();

        WatcherLog() {
            appender.start();
            logger.addAppender(appender);
        }

        /** The messages logged so far, formatted, in order. */
        List<String> lines() {
            synchronized (appender) {
                return appender.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
                        .toList();
            }
        }

        @Override
        public void close() {
            logger.detachAppender(appender);
        }
    }
}
