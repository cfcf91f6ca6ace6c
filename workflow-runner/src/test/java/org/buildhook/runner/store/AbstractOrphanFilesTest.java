package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Retention on a node also removes from its own disk the job log folders and payload copies whose job
 * or delivery the store no longer has: in a cluster, those of jobs that ran on this node and whose
 * delivery another node's sweep deleted; on one node, those a stop left between the rows' deletion
 * and the files'. Node A and node B are two stores on one database with data folders of their own
 * (on SQLite, as a node that stopped after deleting the rows leaves it). On SQLite and PostgreSQL by
 * the subclasses.
 */
abstract class AbstractOrphanFilesTest {

    /** Older than the retention (30 days): what retention deletes. */
    private static final Duration OLD = Duration.ofDays(31);

    @TempDir
    Path dir;
    private StoreConfig database;
    private final List<Store> stores = new ArrayList<>();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger orphanLog = (Logger) LoggerFactory.getLogger(OrphanFiles.class);

    /** A new, empty database (its data folder is not used). */
    abstract StoreConfig config(Path dir);

    @BeforeEach
    void newDatabase() throws IOException {
        database = config(Files.createDirectories(dir.resolve("db")));
        log.start();
        orphanLog.addAppender(log);
    }

    @AfterEach
    void closeStores() {
        orphanLog.detachAppender(log);
        stores.forEach(Store::close);
    }

    @Test
    void aNodeRemovesTheLogFoldersAndPayloadCopiesOfJobsWhoseRowsAnotherNodeDeleted() throws Exception {
        Store past = node("past", Clock.offset(Clock.systemUTC(), OLD.negated()), 500);
        AcceptResult gone = past.accept(Plans.delivery("default", "{\"build_id\": 1}", Instant.now().minus(OLD)),
                List.of(Plans.job("deploy", List.of("/bin/true"))));
        end(past, gone.jobIds().get(0));
        AcceptResult kept = past.accept(Plans.delivery("default", "{\"build_id\": 2}", Instant.now().minus(OLD)),
                List.of(Plans.job("deploy", List.of("/bin/true")))); // its job is still queued
        Store a = node("a", Clock.systemUTC(), 500);
        AcceptResult fresh = a.accept(Plans.delivery("default", "{\"build_id\": 3}", Instant.now()),
                List.of(Plans.job("deploy", List.of("/bin/true"))));
        end(a, fresh.jobIds().get(0));
        Store b = node("b", Clock.systemUTC(), 500);
        Path logs = dir.resolve("b").resolve("logs");
        Path payloads = dir.resolve("b").resolve("payloads");
        // What node B wrote when it ran the three jobs: attempt logs and its payload copies.
        Path goneLogs = logFolder(logs, gone.jobIds().get(0), "attempt-1.log", "attempt-2.log",
                ".attempt-2.log.rewrite"); // a rewrite a stop left half-way (review12 L5)
        Path keptLogs = logFolder(logs, kept.jobIds().get(0), "attempt-1.log");
        Path freshLogs = logFolder(logs, fresh.jobIds().get(0), "attempt-1.log");
        Path goneCopy = file(payloads.resolve(gone.deliveryId() + ".json"));
        Path keptCopy = file(payloads.resolve(kept.deliveryId() + ".json"));
        Path freshCopy = file(payloads.resolve(fresh.deliveryId() + ".json"));
        // Names buildhook does not write, or that are not what it writes, under ids no row has.
        Path notAJob = logFolder(logs, "not-a-job", "attempt-1.log");
        Path fileNamedAsAJob = file(logs.resolve(oldAbsentId(1)));
        Path outside = logFolder(dir.resolve("outside"), "target", "attempt-1.log");
        Path linkToAFolder = Files.createSymbolicLink(logs.resolve(oldAbsentId(2)), outside);
        Path shared = logFolder(logs, oldAbsentId(3), "attempt-1.log", "notes.txt");
        Path notACopy = file(payloads.resolve(gone.deliveryId() + ".json.partial"));
        Path linkToAFile = Files.createSymbolicLink(payloads.resolve(oldAbsentId(4) + ".json"),
                outside.resolve("attempt-1.log"));
        for (Path p : List.of(goneLogs, keptLogs, freshLogs, goneCopy, keptCopy, freshCopy, notAJob, fileNamedAsAJob,
                outside, shared, notACopy)) {
            ageTree(p);
        }

        assertThat(a.runRetention()).as("node A deletes the old delivery's rows").isEqualTo(1);
        assertThat(goneLogs).as("on node B's disk").isDirectory();
        b.sweepJobLogsIn(logs);
        assertThat(b.runRetention()).isZero();

        assertThat(goneLogs).doesNotExist();
        assertThat(goneCopy).doesNotExist();
        assertThat(keptLogs.resolve("attempt-1.log")).exists();
        assertThat(keptCopy).exists();
        assertThat(freshLogs.resolve("attempt-1.log")).exists();
        assertThat(freshCopy).exists();
        assertThat(notAJob.resolve("attempt-1.log")).exists();
        assertThat(fileNamedAsAJob).isRegularFile();
        assertThat(linkToAFolder).isSymbolicLink();
        assertThat(outside.resolve("attempt-1.log")).exists();
        assertThat(shared.resolve("attempt-1.log")).as("its own log goes").doesNotExist();
        assertThat(shared.resolve("notes.txt")).as("someone else's file stays, with its folder").exists();
        assertThat(notACopy).exists();
        assertThat(linkToAFile).isSymbolicLink();
        assertThat(b.orphanLogFoldersRemoved()).isOne();
        assertThat(b.orphanPayloadCopiesRemoved()).isOne();
        assertThat(a.orphanLogFoldersRemoved()).isZero();
        assertThat(infos()).containsExactly("retention removed 1 job log folder(s) and 1 payload copy(ies) from this"
                + " node whose job or delivery the store no longer has (deleted by another node's sweep, or before a"
                + " stop)");
    }

    @Test
    void keepsWhatChangedLatelyAndWhatRetentionCannotHaveDeletedYet() throws Exception {
        Store b = node("b", Clock.systemUTC(), 500);
        Path logs = dir.resolve("b").resolve("logs");
        b.sweepJobLogsIn(logs);
        Path written = logFolder(logs, oldAbsentId(1), "attempt-1.log");
        Path growing = logFolder(logs, oldAbsentId(2), "attempt-1.log", "attempt-2.log");
        ageTree(growing);
        touch(growing.resolve("attempt-2.log"));
        Path young = logFolder(logs, new Ids(Clock.systemUTC()).next(), "attempt-1.log");
        ageTree(young);
        Path youngCopy = file(dir.resolve("b").resolve("payloads").resolve(new Ids(Clock.systemUTC()).next() + ".json"));
        ageTree(youngCopy);

        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));
        assertThat(written.resolve("attempt-1.log")).exists();
        assertThat(growing.resolve("attempt-1.log")).exists();
        assertThat(young).isDirectory();
        assertThat(youngCopy).exists();
        assertThat(infos()).isEmpty();

        ageTree(written);
        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(1, 0));
        assertThat(written).doesNotExist();
    }

    /** review19 R4: a node killed while it probed a folder leaves its probe file; retention takes it once it is old. */
    @Test
    void aProbeFileLeftByANodeKilledWhileItProbedIsRemovedOnceOldEnough() throws Exception {
        Store b = node("b", Clock.systemUTC(), 500);
        Path logs = dir.resolve("b").resolve("logs");
        b.sweepJobLogsIn(logs);
        Path payloads = dir.resolve("b").resolve("payloads");
        Path oldInLogs = file(logs.resolve(".buildhook-write-probe-3fa9c0d2e1b4a5f6"));
        Path oldInPayloads = file(payloads.resolve(".buildhook-write-probe-1c"));
        Path fresh = file(payloads.resolve(".buildhook-write-probe-77aa"));
        Path notAProbe = file(payloads.resolve(".buildhook-write-probe-not-hex"));
        ageTree(oldInLogs);
        ageTree(oldInPayloads);
        ageTree(notAProbe);

        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));
        assertThat(oldInLogs).doesNotExist();
        assertThat(oldInPayloads).doesNotExist();
        assertThat(fresh).as("a probe may be under way: unchanged for less than the grace").exists();
        assertThat(notAProbe).as("not a name a probe makes").exists();
    }

    @Test
    void eachSweepLooksAtABoundedNumberOfNamesAndGoesOnWhereTheLastOneStopped() throws Exception {
        // Batches of 2 ids per query: 20 batches, so 40 names per folder and sweep.
        Store past = node("past", Clock.offset(Clock.systemUTC(), Duration.ofDays(-40)), 2);
        Path payloads = dir.resolve("b").resolve("payloads");
        List<Path> live = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            String delivery = past.accept(Plans.delivery("default", "{\"build_id\": " + i + "}", Instant.now()),
                    List.of(Plans.job("deploy", List.of("/bin/true")))).deliveryId();
            live.add(file(payloads.resolve(delivery + ".json")));
        }
        for (int i = 0; i < 45; i++) {
            file(payloads.resolve(oldAbsentId(i) + ".json"));
        }
        ageTree(payloads);
        Store b = node("b", Clock.systemUTC(), 2);

        // The three live copies are the oldest names: the first sweep's 40 names hold 37 orphans.
        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 37));
        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 8));
        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));
        assertThat(b.orphanPayloadCopiesRemoved()).isEqualTo(45);
        try (var left = Files.list(payloads)) {
            assertThat(left.filter(p -> !p.getFileName().toString().startsWith(OrphanFiles.MARK_PREFIX)))
                    .containsExactlyInAnyOrderElementsOf(live);
        }
    }

    @Test
    void aStoreThatDoesNotAnswerEndsTheSweepWithOneWarningAndRemovesNothing() throws Exception {
        Store b = node("b", Clock.systemUTC(), 1);
        Path logs = dir.resolve("b").resolve("logs");
        b.sweepJobLogsIn(logs);
        List<Path> orphans = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            orphans.add(logFolder(logs, oldAbsentId(i), "attempt-1.log"));
            orphans.add(file(dir.resolve("b").resolve("payloads").resolve(oldAbsentId(i) + ".json")));
        }
        orphans.forEach(AbstractOrphanFilesTest::ageTree);
        b.close();
        stores.remove(b);

        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));

        assertThat(orphans).allMatch(Files::exists);
        assertThat(log.list).hasSize(1).allMatch(e -> e.getLevel() == Level.WARN)
                .allMatch(e -> e.getFormattedMessage().startsWith("retention could not ask the store which job log"
                        + " folders and payload copies on this node are left over: "));
    }

    /**
     * review12 M1: two installations (two stores) given one log folder by mistake removed each other's
     * files: whatever one store lacks and is older than its retention, the other's live jobs included.
     * A folder that holds another store's mark is now left alone, and that is said once per store.
     */
    @Test
    void aFolderAnotherStoreUsesTooIsLeftAloneAndThatIsSaidOnce() throws Exception {
        Store a = node("a", Clock.systemUTC(), 500);
        StoreConfig second = config(Files.createDirectories(dir.resolve("db2")));
        Store other = Store.open(new StoreConfig(second.url(), dir.resolve("other"), second.dedupWindow(),
                StoreConfig.DEFAULT_RETENTION, Duration.ZERO, 500, second.poolSize(), second.connectTimeout(),
                Clock.systemUTC()));
        stores.add(other);
        Path logs = dir.resolve("shared-logs");
        a.sweepJobLogsIn(logs);
        other.sweepJobLogsIn(logs);
        // A job of the other installation, on a delivery older than A's retention, that A's store lacks.
        Path othersJob = logFolder(logs, oldAbsentId(1), "attempt-1.log");
        ageTree(othersJob);

        assertThat(a.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));
        assertThat(a.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));

        assertThat(othersJob.resolve("attempt-1.log")).exists();
        assertThat(log.list).filteredOn(e -> e.getLevel() == Level.WARN).singleElement()
                .satisfies(e -> assertThat(e.getFormattedMessage()).startsWith("retention does not remove left-over"
                        + " files in " + logs + ": another buildhook store uses that folder too"));
        try (var marks = Files.newDirectoryStream(logs, OrphanFiles.MARK_PREFIX + "*")) {
            assertThat(marks).hasSize(2);
        }
    }

    /** A folder that lost this store's mark is marked again, and swept from the next sweep on. */
    @Test
    void aFolderWithoutThisStoresMarkIsMarkedAndSweptFromTheNextSweepOn() throws Exception {
        Store b = node("b", Clock.systemUTC(), 500);
        Path logs = dir.resolve("b").resolve("logs");
        b.sweepJobLogsIn(logs);
        try (var marks = Files.newDirectoryStream(logs, OrphanFiles.MARK_PREFIX + "*")) {
            for (Path mark : marks) {
                Files.delete(mark);
            }
        }
        Path orphan = logFolder(logs, oldAbsentId(1), "attempt-1.log");
        ageTree(orphan);

        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(0, 0));
        assertThat(orphan).exists();
        assertThat(b.orphanFiles().sweep()).isEqualTo(new OrphanFiles.Removed(1, 0));
        assertThat(orphan).doesNotExist();
    }

    /** A store on the test's database with a data folder of its own. */
    /**
     * A file where the payload folder goes: the start's retention WARN gives the reason, not the path
     * again (final18 F1: its parenthesis was NotDirectoryException's message, the path alone).
     */
    @Test
    void aFileWhereThePayloadFolderGoesIsSaidAsSuchOnce() throws IOException {
        Path payloads = Files.createDirectories(dir.resolve("c")).resolve("payloads");
        Files.writeString(payloads, "not a folder");

        node("c", Clock.systemUTC(), 500);

        assertThat(log.list).filteredOn(e -> e.getLevel() == Level.WARN).extracting(ILoggingEvent::getFormattedMessage)
                .containsExactly("retention cannot mark " + payloads + " as this store's (a file is where the folder"
                        + " goes): left-over files there are not removed until it can");
    }

    private Store node(String name, Clock clock, int batch) {
        Store store = Store.open(new StoreConfig(database.url(), dir.resolve(name), database.dedupWindow(),
                StoreConfig.DEFAULT_RETENTION, Duration.ZERO, batch, database.poolSize(), database.connectTimeout(),
                clock));
        stores.add(store);
        return store;
    }

    /** Ends the job (two failed attempts), so that retention may delete it. */
    private static void end(Store store, String jobId) {
        for (int n = 1; n <= 2; n++) {
            int attempt = store.ledger().startAttempt(jobId, "node-b");
            store.ledger().finishAttempt(jobId, attempt, new JobOutcome(JobOutcome.Result.FAILED, 1, Instant.now(),
                    Instant.now(), "exited with 1", null, false), n == 2 ? JobState.FAILED : JobState.QUEUED);
        }
    }

    /** An id made 35 days ago plus {@code n} ms: older than the retention, and no row has it. */
    private static String oldAbsentId(int n) {
        return Ids.lowestAt(Instant.now().minus(Duration.ofDays(35)).plusMillis(n));
    }

    private static Path logFolder(Path logs, String name, String... files) throws IOException {
        Path folder = Files.createDirectories(logs.resolve(name));
        for (String f : files) {
            Files.writeString(folder.resolve(f), "output");
        }
        return folder;
    }

    private static Path file(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, "{}");
    }

    /** Makes the file, or the folder and what it holds, look unchanged for an hour (past the grace). */
    private static void ageTree(Path path) {
        try (var all = Files.walk(path)) {
            FileTime hourAgo = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
            for (Path p : (Iterable<Path>) all::iterator) {
                Files.setLastModifiedTime(p, hourAgo);
            }
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void touch(Path file) throws IOException {
        Files.setLastModifiedTime(file, FileTime.from(Instant.now()));
    }

    private List<String> infos() {
        synchronized (log) { // logback appends under the appender's lock
            return log.list.stream().filter(e -> e.getLevel() == Level.INFO).map(ILoggingEvent::getFormattedMessage)
                    .toList();
        }
    }
}
