package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/** Shared resources across rules and nodes; on SQLite and PostgreSQL. */
abstract class AbstractResourceTest extends AbstractWorkflowTest {

    @Test
    void threeBoardsSharedByTwoRulesUnderThirtyDeliveriesNeverExceedThreeInUseAndEveryJobRuns() throws IOException {
        Path events = dir.resolve("events");
        // O_APPEND writes of one short line are atomic; the command's own clock says when it held a board.
        // Each also says which boards it was told it holds (units32): none held by two jobs at once.
        Path board = script("board.sh", "echo \"S $(date +%s%N) $1 $BUILDHOOK_RESOURCE_IMX8_BOARDS\" >> " + events
                + "\nsleep 0.1\necho \"E $(date +%s%N) $1 $BUILDHOOK_RESOURCE_IMX8_BOARDS\" >> " + events);
        RuleSet rules = rules("resources:\n  imx8-boards: 3\n"
                + "rules:\n"
                + "  - name: flash\n"
                + "    run: {command: [/bin/sh, \"" + board + "\", \"flash-${build.id}\"], resources: {imx8-boards: 1}}\n"
                + "  - name: soak\n"
                + "    run: {command: [/bin/sh, \"" + board + "\", \"soak-${build.id}\"], resources: {imx8-boards: 2}}\n");
        openStore();
        startEngine();
        CommonsExecLauncher second = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs-b")));
        List<String> jobs = new ArrayList<>();
        try (JobEngine other = JobEngine.create(store, second, AbstractEngineTest.steady("node-b"))) {
            other.start();
            for (int build = 1; build <= 30; build++) {
                jobs.addAll(deliver(rules, build).jobIds());
            }
            await().atMost(Duration.ofMinutes(3)).until(() -> jobs.stream().allMatch(j -> job(j).state().isFinal()));
        } finally {
            second.close();
        }

        assertThat(jobs).hasSize(60).allSatisfy(j -> assertState(job(j), JobState.SUCCEEDED));
        List<long[]> changes = new ArrayList<>();
        java.util.Map<Integer, List<long[]>> byBoard = new java.util.TreeMap<>();
        for (String line : Files.readAllLines(events)) {
            String[] f = line.split(" ");
            int units = f[2].startsWith("soak") ? 2 : 1;
            changes.add(new long[] {Long.parseLong(f[1]), f[0].equals("S") ? units : -units});
            assertThat(f).as("the boards %s was told it holds", f[2]).hasSize(4);
            List<Integer> told = java.util.Arrays.stream(f[3].split(",")).map(Integer::valueOf).toList();
            assertThat(told).as("the boards %s was told it holds", f[2]).hasSize(units).doesNotHaveDuplicates()
                    .allSatisfy(n -> assertThat(n).isBetween(1, 3));
            for (int n : told) {
                byBoard.computeIfAbsent(n, k -> new ArrayList<>())
                        .add(new long[] {Long.parseLong(f[1]), f[0].equals("S") ? 1 : -1});
            }
        }
        for (java.util.Map.Entry<Integer, List<long[]>> b : byBoard.entrySet()) {
            List<long[]> uses = b.getValue();
            uses.sort((x, y) -> x[0] != y[0] ? Long.compare(x[0], y[0]) : Long.compare(x[1], y[1]));
            long holders = 0;
            for (long[] use : uses) {
                holders += use[1];
                assertThat(holders).as("jobs on board %d at once", b.getKey()).isBetween(0L, 1L);
            }
        }
        // Ends before starts at the same instant: a board given back can be taken at once.
        changes.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        long inUse = 0;
        long most = 0;
        for (long[] change : changes) {
            inUse += change[1];
            most = Math.max(most, inUse);
        }
        assertThat(changes).hasSize(120);
        assertThat(most).as("boards in use at once").isBetween(1L, 3L);
        awaitNoUnitsInUse();
    }

    /**
     * units32 (tryout30 F1): two jobs holding one of two lab boards at once are each told which: board 1 and board 2,
     * in {@code BUILDHOOK_RESOURCE_LAB_BOARDS}. Before, nothing told a job which board it held.
     */
    @Test
    void twoJobsHoldingOneOfTwoBoardsAtOnceAreToldDifferentBoards() throws IOException {
        Path go = dir.resolve("go");
        Path told = dir.resolve("told");
        Path hold = script("hold.sh", "echo \"$1 $BUILDHOOK_RESOURCE_LAB_BOARDS\" >> " + told + "\nwhile [ ! -e " + go
                + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05; done");
        RuleSet rules = rules("resources:\n  lab-boards: 2\n"
                + "rules:\n"
                + "  - name: flash\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"flash-${build.id}\"], resources: {lab-boards: 1}}\n");
        openStore();
        startEngine();
        String first = deliver(rules, 1).jobIds().get(0);
        String second = deliver(rules, 2).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(told) && Files.readAllLines(told).size() == 2);

        List<String> lines = Files.readAllLines(told);
        Files.createFile(go);
        for (String j : List.of(first, second)) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
        assertThat(lines).extracting(l -> l.substring(l.indexOf(' ') + 1)).containsExactlyInAnyOrder("1", "2");
    }

    /**
     * perf38 F4: a resource named like a secret ({@code signing-keys}) gives a variable whose name looks secret
     * ({@code BUILDHOOK_RESOURCE_SIGNING_KEYS}); its value, the units the job holds, is buildhook's, not a secret, and
     * the job's log shows it. Before, a list of 4 characters or more ({@code 1,2,3}) was masked as {@code ***}.
     */
    @Test
    void theUnitsOfAResourceNamedLikeASecretAreShownInTheJobsLog() throws IOException {
        Path print = script("print.sh", "echo \"units $BUILDHOOK_RESOURCE_SIGNING_KEYS\"");
        RuleSet rules = rules("resources:\n  signing-keys: 3\n"
                + "rules:\n"
                + "  - name: sign\n"
                + "    run: {command: [/bin/sh, \"" + print + "\"], resources: {signing-keys: 3}}\n");
        openStore();
        startEngine();
        String job = deliver(rules, 1).jobIds().get(0);
        org.buildhook.runner.store.JobDetail done = awaitFinal(job);
        assertState(done.job(), JobState.SUCCEEDED);
        assertThat(Files.readString(Path.of(done.attempts().get(0).logPath()))).contains("units 1,2,3")
                .doesNotContain("***");
        awaitNoUnitsInUse();
    }

    @Test
    void aJobThatCannotHaveItsUnitsWaitsVisiblyInFirstComeOrder() throws IOException {
        Path go = dir.resolve("go");
        Path order = dir.resolve("order");
        Path hold = script("hold.sh", "echo $1 >> " + order + "\nwhile [ ! -e " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done");
        RuleSet rules = rules("resources:\n  lab: 2\n"
                + "rules:\n"
                + "  - name: big\n    when: {status: PASSED}\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"big-${build.id}\"], resources: {lab: 2}}\n");
        openStore();
        startEngine();

        String first = deliver(rules, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> job(first).state() == JobState.RUNNING);
        // First come is first to wait (docs/rules.md): the third is delivered once the second waits,
        // or two engine threads could pick them in either order and the third would rightly go first.
        String second = deliver(rules, 2).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> job(second).state() == JobState.WAITING);
        String third = deliver(rules, 3).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> job(third).state() == JobState.WAITING);
        Job waiting = job(second);
        assertThat(waiting.message()).startsWith("waiting for lab: 2 wanted, 0 of 2 free");
        assertThat(store.resources().unitsInUse()).containsEntry("lab", 2);

        Files.createFile(go);
        for (String j : List.of(first, second, third)) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
        assertThat(Files.readAllLines(order)).containsExactly("big-1", "big-2", "big-3");
    }

    /**
     * A rule with {@code concurrency: 1} and a shared resource: a younger job approved first waits for the
     * resource, then the older one is approved (found by review12, H1: the older was ahead of the younger
     * in the rule's slot line, by id, and the younger ahead of the older in the resource's line, by when it
     * began to wait, so each held the other back for ever: neither ran, nor any later job needing the
     * resource). Both run, in the resource's first-come order.
     */
    @Test
    void anOlderJobApprovedAfterAYoungerOneWaitsForTheResourceLocksNeitherTheRuleNorTheResource() throws IOException {
        Path go = dir.resolve("go");
        Path order = dir.resolve("order");
        Path hold = script("hold.sh", "echo $1 >> " + order + "\nwhile [ ! -e " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done");
        RuleSet smoke = rules("resources:\n  prod: 1\n"
                + "rules:\n"
                + "  - name: smoke\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"smoke-${build.id}\"], resources: {prod: 1}}\n");
        RuleSet deploy = rules("resources:\n  prod: 1\n"
                + "rules:\n"
                + "  - name: deploy\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"deploy-${build.id}\"], concurrency: 1,"
                + " resources: {prod: 1}}\n");
        openStore();
        startEngine();
        String busy = deliver(smoke, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> job(busy).state() == JobState.RUNNING);
        String older = deliver(deploy, 10).jobIds().get(0);
        String younger = deliver(deploy, 11).jobIds().get(0);

        assertThat(store.approve(younger, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(younger).state() == JobState.WAITING);
        assertThat(store.approve(older, "alice")).isTrue();
        // The younger, waiting for the resource, is ahead of it for the slot too (chaos32 F2): it waits for the slot.
        await().atMost(Duration.ofSeconds(30)).until(() -> waitsForTheSlot(job(older)));
        Files.createFile(go);

        for (String j : List.of(busy, younger, older)) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
        assertThat(Files.readAllLines(order)).containsExactly("smoke-1", "deploy-11", "deploy-10");
    }

    /**
     * The usual case next to the one above: three jobs of a rule with {@code concurrency: 1} and a busy
     * resource run in the order they were created: the first takes the slot, finds the resource taken and waits
     * for it (the resource's line, which a job waiting for it keeps instead of the slot's); the next ones wait for
     * the slot behind it, in their order (until chaos32 F2 each took the slot in turn and waited for the resource
     * too, and any of them taking the slot at the first one's try held it back: see
     * {@code AbstractStoreTest.theFirstJobWaitingForUnitsHasItsRulesSlotBeforeTheYoungerOnes}).
     */
    @Test
    void jobsOfARuleWithConcurrencyWaitingForABusyResourceRunInTheOrderTheyWereCreated() throws IOException {
        Path go = dir.resolve("go");
        Path order = dir.resolve("order");
        Path hold = script("hold.sh", "echo $1 >> " + order + "\nwhile [ ! -e " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done");
        RuleSet smoke = rules("resources:\n  prod: 1\n"
                + "rules:\n"
                + "  - name: smoke\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"smoke-${build.id}\"], resources: {prod: 1}}\n");
        RuleSet deploy = rules("resources:\n  prod: 1\n"
                + "rules:\n"
                + "  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"deploy-${build.id}\"], concurrency: 1,"
                + " resources: {prod: 1}}\n");
        openStore();
        startEngine();
        String busy = deliver(smoke, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(30)).until(() -> job(busy).state() == JobState.RUNNING);
        List<String> deploys = new ArrayList<>();
        for (int build = 10; build < 13; build++) {
            String j = deliver(deploy, build).jobIds().get(0);
            deploys.add(j);
            // Each waits before the next is made: the first for the resource, the next ones for the slot behind it.
            boolean first = build == 10;
            await().atMost(Duration.ofSeconds(30)).until(() -> first ? job(j).state() == JobState.WAITING
                    : waitsForTheSlot(job(j)));
        }
        Files.createFile(go);

        assertState(awaitFinal(busy).job(), JobState.SUCCEEDED);
        for (String j : deploys) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
        assertThat(Files.readAllLines(order)).containsExactly("smoke-1", "deploy-10", "deploy-11", "deploy-12");
    }

    /**
     * A capacity lowered in the rules file holds for the jobs already stored (tryout24 F7: each job went by
     * the capacity stored with it, and two lab jobs ran on a pool just cut from 2 boards to 1), and a raised
     * one lets the jobs already stored use the new units.
     */
    @Test
    void aCapacityChangedByAReloadHoldsForTheJobsAlreadyStoredLoweredAndRaised() throws IOException {
        Path go = dir.resolve("go");
        Path hold = script("hold.sh", "while [ ! -e " + go + " ]; do [ -d " + go.getParent()
                + " ] || exit 1; sleep 0.05; done");
        String rule = "rules:\n"
                + "  - name: lab\n"
                + "    approval: {expires: 1h}\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"lab-${build.id}\"], resources: {lab: 1}}\n";
        RuleSet two = rules("resources:\n  lab: 2\n" + rule);
        RuleSet one = rules("resources:\n  lab: 1\n" + rule);
        openStore();
        startEngine();

        // Lowered: stored under 2 boards, approved after the pool was cut to 1.
        String a = deliver(two, 1).jobIds().get(0);
        String b = deliver(two, 2).jobIds().get(0);
        assertThat(store.resources().applyCapacities(one.resources()))
                .containsExactly(new org.buildhook.runner.store.ResourceLedger.CapacityChange("lab", 2, 1, 2));
        assertThat(store.approve(a, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(a).state() == JobState.RUNNING);
        assertThat(store.approve(b, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(b).state() != JobState.QUEUED);
        assertThat(job(b).state()).as("the second job on a pool cut to 1 board").isEqualTo(JobState.WAITING);
        assertThat(job(b).message()).startsWith("waiting for lab: 1 wanted, 0 of 1 free");
        Files.createFile(go);
        assertState(awaitFinal(a).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(b).job(), JobState.SUCCEEDED);
        Files.delete(go);

        // Raised: stored under 1 board, both run at once once the pool has 2.
        String c = deliver(one, 3).jobIds().get(0);
        String d = deliver(one, 4).jobIds().get(0);
        assertThat(store.resources().applyCapacities(two.resources()))
                .containsExactly(new org.buildhook.runner.store.ResourceLedger.CapacityChange("lab", 1, 2, 2));
        assertThat(store.approve(c, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(c).state() == JobState.RUNNING);
        assertThat(store.approve(d, "alice")).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(d).state() == JobState.RUNNING
                || job(d).state() == JobState.WAITING && job(c).state() == JobState.RUNNING
                        && job(d).message() != null && job(d).message().contains("0 of 1 free"));
        assertThat(job(d).state()).as("the second job on a pool raised to 2 boards").isEqualTo(JobState.RUNNING);
        assertThat(store.resources().unitsInUse()).containsEntry("lab", 2);
        Files.createFile(go);
        assertState(awaitFinal(c).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(d).job(), JobState.SUCCEEDED);

        // A resource no longer declared: the jobs keep the capacity stored with them.
        assertThat(store.resources().applyCapacities(java.util.Map.of())).isEmpty();
    }

    /**
     * tryout35 F4: a job waiting for a shared unit starts when a job's end gives one back, woken as a freed concurrency
     * slot wakes the next in line, not at its next try. Two boards, four jobs taking one each: the first two run, the
     * other two wait; each end starts the next waiter. {@code runner.poll-interval} and {@code runner.slot-retry} are
     * 10 minutes, so only a wake starts a waiter within the bound (before, each waited for its next try).
     */
    @Test
    void eachJobEndWakesTheNextJobWaitingForTheUnitItGaveBack() throws IOException {
        Path hold = script("hold.sh", "while [ ! -e " + dir.resolve("go-") + "$1 ]; do [ -d " + dir
                + " ] || exit 1; sleep 0.05; done");
        RuleSet rules = rules("resources:\n  lab-boards: 2\n"
                + "rules:\n"
                + "  - name: lab-test\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"${build.id}\"], resources: {lab-boards: 1}}\n");
        openStore();
        startEngine(AbstractEngineTest.steady("node-a").withTimings(Duration.ofMinutes(10), Duration.ofMillis(200), 50)
                .withSlotRetryDelay(Duration.ofMinutes(10)));
        List<String> jobs = new ArrayList<>();
        for (int build = 1; build <= 4; build++) {
            String j = deliver(rules, build).jobIds().get(0);
            jobs.add(j);
            // Each is placed before the next is made, so that the line is by build: two run, then two wait.
            JobState expected = build <= 2 ? JobState.RUNNING : JobState.WAITING;
            await().atMost(Duration.ofSeconds(60)).until(() -> job(j).state() == expected);
        }

        // Each end gives a board back: the first job waiting for one starts on it, far sooner than its next try.
        for (int end = 0; end < 2; end++) {
            Files.createFile(dir.resolve("go-" + (end + 1)));
            assertState(awaitFinal(jobs.get(end)).job(), JobState.SUCCEEDED);
            String next = jobs.get(end + 2);
            await().atMost(Duration.ofSeconds(60)).until(() -> job(next).state() == JobState.RUNNING);
        }
        Files.createFile(dir.resolve("go-3"));
        Files.createFile(dir.resolve("go-4"));
        for (String j : jobs) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
        awaitNoUnitsInUse();
    }

    /**
     * wake36: a capacity raised by a rules reload ({@code applyCapacities}) wakes the job waiting for the new unit, as a
     * unit given back does. {@code runner.poll-interval} and {@code runner.slot-retry} are 10 minutes: before, the job
     * waited for its next try with the new board free.
     */
    @Test
    void aCapacityRaisedByAReloadWakesTheJobWaitingForTheNewUnit() throws IOException {
        Path hold = script("hold.sh", "while [ ! -e " + dir.resolve("go-") + "$1 ]; do [ -d " + dir
                + " ] || exit 1; sleep 0.05; done");
        String rule = "rules:\n"
                + "  - name: lab-test\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"${build.id}\"], resources: {lab-boards: 1}}\n";
        RuleSet one = rules("resources:\n  lab-boards: 1\n" + rule);
        RuleSet two = rules("resources:\n  lab-boards: 2\n" + rule);
        openStore();
        startEngine(slowTries());
        String first = deliver(one, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(first).state() == JobState.RUNNING);
        String second = deliver(one, 2).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(second).state() == JobState.WAITING);

        assertThat(store.resources().applyCapacities(two.resources()))
                .containsExactly(new org.buildhook.runner.store.ResourceLedger.CapacityChange("lab-boards", 1, 2, 2));

        await().atMost(Duration.ofSeconds(60)).until(() -> job(second).state() == JobState.RUNNING);
        Files.createFile(dir.resolve("go-1"));
        Files.createFile(dir.resolve("go-2"));
        assertState(awaitFinal(first).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(second).job(), JobState.SUCCEEDED);
        awaitNoUnitsInUse();
    }

    /**
     * wake36: a unit held for a job no longer picked (its give-back lost: its node stopped between recording the job's
     * end and giving the units back) is freed by the next take of any resource; that take wakes the job waiting for
     * it, as a give-back does. Here the first job's hold is left as such a job's (it keeps running, holding nothing),
     * a job of another resource is taken, and the job waiting for the board must start within 60 s; {@code
     * runner.poll-interval} and {@code runner.slot-retry} are 10 minutes (before, it waited for its next try).
     */
    @Test
    void aUnitLeftHeldByAJobNoLongerPickedGoesToTheJobWaitingForItWhenAnotherTakeFreesIt() throws Exception {
        Path hold = script("hold.sh", "while [ ! -e " + dir.resolve("go-") + "$1 ]; do [ -d " + dir
                + " ] || exit 1; sleep 0.05; done");
        RuleSet rules = rules("resources:\n  lab-boards: 1\n  printers: 1\n"
                + "rules:\n"
                + "  - name: lab-test\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"${build.id}\"], resources: {lab-boards: 1}}\n");
        RuleSet print = rules("resources:\n  lab-boards: 1\n  printers: 1\n"
                + "rules:\n"
                + "  - name: print\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"${build.id}\"], resources: {printers: 1}}\n");
        openStore();
        startEngine(slowTries());
        String first = deliver(rules, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(first).state() == JobState.RUNNING);
        String second = deliver(rules, 2).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(second).state() == JobState.WAITING);
        try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p =
                c.prepareStatement("UPDATE resource_holds SET job_id = 'lost-give-back' WHERE job_id = ?")) {
            p.setString(1, first);
            assertThat(p.executeUpdate()).isEqualTo(1);
        }

        String printing = deliver(print, 3).jobIds().get(0);

        await().atMost(Duration.ofSeconds(60)).until(() -> job(printing).state() == JobState.RUNNING);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(second).state() == JobState.RUNNING);
        for (int build = 1; build <= 3; build++) {
            Files.createFile(dir.resolve("go-" + build));
        }
        for (String j : List.of(first, second, printing)) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
    }

    /**
     * tryout43 F6: a node with a free thread starts a job of a rule without limits at once, however many jobs that
     * cannot start (their rule's {@code concurrency: 1} used up, their shared resource's unit held) are due before it.
     * 3 threads: a deploy holds its rule's one slot, a flash the lab's one board, and two of each wait, due (their
     * next try's time passed). Before, the pick for the free thread took one of them, which was refused and put back,
     * and on SQLite nothing picked again until the next poll (a minute here) or the end of a running job: the page
     * started only when a job ended (5 to 13 s in tryout43). Nothing ends here before the page starts.
     */
    @Test
    void aJobThatCanStartOnAFreeThreadDoesNotWaitBehindDueJobsWaitingForASlotOrUnits() throws Exception {
        Path go = dir.resolve("go");
        Path events = dir.resolve("events");
        Path hold = script("hold.sh", "echo \"S $1\" >> " + events + "\nwhile [ ! -e " + go + " ]; do [ -d " + dir
                + " ] || exit 1; sleep 0.05; done\necho \"E $1\" >> " + events);
        String resources = "resources:\n  lab: 1\n";
        RuleSet deploy = rules(resources + "rules:\n  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"deploy-${build.id}\"], concurrency: 1}\n");
        RuleSet flash = rules(resources + "rules:\n  - name: flash\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\", \"flash-${build.id}\"], resources: {lab: 1}}\n");
        Path paged = script("page.sh", "echo \"S $1\" >> " + events);
        RuleSet page = rules(resources + "rules:\n  - name: page\n"
                + "    run: {command: [/bin/sh, \"" + paged + "\", \"page-${build.id}\"]}\n");
        openStore();
        // A poll a minute away: only the deliveries and the engine's own wakes pick; slot-retry 100 ms.
        startEngine(new EngineConfig("node-a", 3, Duration.ofMinutes(1), Duration.ofMillis(200), 50,
                Duration.ofSeconds(5), Duration.ofMillis(100), Duration.ofMillis(100)));
        String deploying = deliver(deploy, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(deploying).state() == JobState.RUNNING);
        String flashing = deliver(flash, 11).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(flashing).state() == JobState.RUNNING);
        List<String> held = new ArrayList<>();
        for (int build : new int[] {2, 3}) {
            held.add(deliver(deploy, build).jobIds().get(0));
            held.add(deliver(flash, 10 + build).jobIds().get(0));
        }
        // Each due before the page: not picked, its next try's time passed.
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            for (String j : held) {
                if (!dueAndNotPicked(j)) {
                    return false;
                }
            }
            return true;
        });

        String paging = deliver(page, 21).jobIds().get(0);

        await().atMost(Duration.ofSeconds(60)).until(() -> job(paging).startedAt() != null);
        assertThat(Files.readAllLines(events)).as("no job ended before the page started")
                .noneMatch(l -> l.startsWith("E "));
        assertState(job(deploying), JobState.RUNNING);
        assertState(job(flashing), JobState.RUNNING);
        assertThat(held).allSatisfy(j -> assertThat(job(j).startedAt()).as("job %s started", j).isNull());
        Files.createFile(go);
        for (String j : List.of(deploying, flashing, paging, held.get(0), held.get(1), held.get(2), held.get(3))) {
            assertState(awaitFinal(j).job(), JobState.SUCCEEDED);
        }
    }

    /**
     * slots43's note: with {@code runner.slot-retry} shorter than a pick (1 ms is in its range), a free thread picked
     * the job waiting for its rule's slot, had it refused and put back, picked it again at once (it was due again by
     * then) and so on, back to back, as long as the slot stayed taken (on PostgreSQL db-scheduler's own pick after an
     * execution did so before). A slot-retry under 100 ms is now 100 ms, and nothing picks the job before its wake or
     * the next poll (a minute away here) or the engine's own looks. Counted as the changes of its row (db-scheduler's
     * {@code version}: its pick and its putting back) over a window of 2 s in which one job holds the slot, with the
     * CPU time of this JVM's threads in the message; fewer than 20 is fewer than one refusal per 200 ms. Before: 45
     * to 191 (one refusal every 10 to 40 ms, the store's writer and the job threads busy: 125 to 354 ms of CPU
     * against 61 to 161 ms after, with 0 to 5 changes).
     */
    @Test
    void aJobWaitingForItsSlotIsNotPickedBackToBackWhenSlotRetryIsShorterThanAPick() throws Exception {
        Path go = dir.resolve("go");
        Path hold = script("hold.sh", "while [ ! -e " + go + " ]; do [ -d " + dir + " ] || exit 1; sleep 0.05; done");
        RuleSet deploy = rules("rules:\n  - name: deploy\n"
                + "    run: {command: [/bin/sh, \"" + hold + "\"], concurrency: 1}\n");
        openStore();
        startEngine(new EngineConfig("node-a", 2, Duration.ofMinutes(1), Duration.ofMillis(200), 50,
                Duration.ofSeconds(5), Duration.ofMillis(1), Duration.ofMillis(100)));
        String deploying = deliver(deploy, 1).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> job(deploying).state() == JobState.RUNNING);
        String waiting = deliver(deploy, 2).jobIds().get(0);
        await().atMost(Duration.ofSeconds(60)).until(() -> waitsForTheSlot(job(waiting)));

        Duration window = Duration.ofSeconds(2);
        long picked = picks(waiting);
        long cpu = cpuOfThisJvmsThreads();
        // The window counted in, not a synchronisation: nothing is awaited.
        await().pollDelay(window).atMost(window.multipliedBy(2)).until(() -> true);
        long picks = picks(waiting) - picked;
        Duration used = Duration.ofNanos(cpuOfThisJvmsThreads() - cpu);

        assertThat(picks).as("picks of the waiting job in %s (CPU of this JVM's threads meanwhile: %s)", window, used)
                .isLessThan(20);
        assertState(job(deploying), JobState.RUNNING);
        Files.createFile(go);
        assertState(awaitFinal(deploying).job(), JobState.SUCCEEDED);
        assertState(awaitFinal(waiting).job(), JobState.SUCCEEDED);
    }

    /** How many times the job's execution was picked or put back so far: db-scheduler's {@code version} of its row. */
    private long picks(String jobId) throws java.sql.SQLException {
        try (java.sql.Connection c = store.dataSource().getConnection(); java.sql.PreparedStatement p = c
                .prepareStatement("SELECT version FROM scheduled_tasks WHERE task_instance = ?")) {
            p.setString(1, jobId);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                return rs.next() ? rs.getLong(1) : -1;
            }
        }
    }

    /** The CPU time of this JVM's live threads (ns), the test's own thread aside. */
    private static long cpuOfThisJvmsThreads() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (long id : threads.getAllThreadIds()) {
            sum += id == Thread.currentThread().getId() ? 0 : Math.max(0, threads.getThreadCpuTime(id));
        }
        return sum;
    }

    /** Whether the job's execution is in the queue, not picked, and due now. */
    private boolean dueAndNotPicked(String jobId) throws java.sql.SQLException {
        return queuedFor(jobId).filter(t -> t.isBefore(java.time.Instant.now())).isPresent();
    }

    /** 10-minute polls and tries: a waiting job starts within a test's bound only when something wakes it. */
    private static EngineConfig slowTries() {
        return AbstractEngineTest.steady("node-a").withTimings(Duration.ofMinutes(10), Duration.ofMillis(200), 50)
                .withSlotRetryDelay(Duration.ofMinutes(10));
    }

    /** Whether the job waits for its rule's slot (queued, told so). */
    private static boolean waitsForTheSlot(Job job) {
        return job.state() == JobState.QUEUED && job.message() != null
                && job.message().contains("waiting for a concurrency slot of its rule");
    }

    /** Waits until no unit is in use: a job gives its units back after its end is recorded (JobTask). */
    private void awaitNoUnitsInUse() {
        await().atMost(Duration.ofSeconds(60))
                .untilAsserted(() -> assertThat(store.resources().unitsInUse()).isEmpty());
    }
}
