package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.buildhook.runner.exec.JobOutcome;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The file a stop notes what it could not record in, read by the next start (tryout20 F2, tryout21 F3). */
class StopsNotRecordedTest {

    @TempDir
    Path dir;

    @Test
    void anOutcomeWrittenByAStopIsReadByTheNextStartBesideLinesOfTheOldFormat() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Instant ended = Instant.parse("2026-12-02T10:01:20.123Z");
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1");
        stop.add("job-a", 1, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, ended,
                dir.resolve("logs with space/attempt-1.log")));
        stop.add("job-b", 2, new StopsNotRecorded.Known(JobOutcome.Result.TIMED_OUT, null, null, null));
        stop.add("job-c", 1);
        stop.add("job-d", 5, new StopsNotRecorded.Cut(ended, null));
        String why = "killed by its own node: no heartbeat could be written for 2000 ms (the store is unreachable)";
        stop.add("job-e", 6, new StopsNotRecorded.Cut(ended, why));
        // A line of the format before the outcome was kept, one of another node, and one that cannot be read.
        Files.writeString(file, "node-1 job-old 3\nnode-1 job-begun 4 begun\nnode-2 job-other 1 SUCCEEDED 0 5\n"
                + "node-1 job-bad 1 NOPE x y\n",
                java.nio.file.StandardOpenOption.APPEND);
        assertThat(Files.readAllLines(file).get(0)).startsWith("# buildhook stops-not-recorded 2");

        StopsNotRecorded start = new StopsNotRecorded(file, "node-1");
        assertThat(start.outcome("node-1", "job-a", 1)).contains(new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, ended,
                dir.resolve("logs with space/attempt-1.log")));
        assertThat(start.outcome("node-1", "job-b", 2)).contains(new StopsNotRecorded.Known(JobOutcome.Result.TIMED_OUT, null,
                null, null));
        assertThat(start.outcome("node-1", "job-c", 1)).isEmpty();
        assertThat(start.contains("node-1", "job-c", 1)).isTrue();
        assertThat(start.contains("node-1", "job-old", 3)).isTrue();
        assertThat(start.contains("node-1", "job-bad", 1)).as("cut short, its outcome unreadable").isTrue();
        assertThat(start.outcome("node-1", "job-bad", 1)).isEmpty();
        assertThat(start.begunUnder("node-1", "job-begun", 4)).as("a line a stop wrote as it began").isTrue();
        assertThat(start.outcome("node-2", "job-other", 1)).as("another node id's line: the data folder's last")
                .isPresent();
        // A stop's cut short with the kill of its tree (tryout22 F5), a self-fencing with its words (outcome21).
        assertThat(start.cut("node-1", "job-d", 5)).contains(new StopsNotRecorded.Cut(ended, null));
        assertThat(start.contains("node-1", "job-d", 5)).isTrue();
        assertThat(start.cut("node-1", "job-e", 6)).contains(new StopsNotRecorded.Cut(ended, why));
        assertThat(start.contains("node-1", "job-e", 6)).isTrue();
        assertThat(start.outcome("node-1", "job-e", 6)).isEmpty();
        assertThat(start.cut("node-1", "job-c", 1)).as("a plain cut short, as before").isEmpty();
        assertThat(Files.readAllLines(file)).as("format 2: an older reader takes them for plain cuts short")
                .contains("node-1 job-d 5 STOPPED - " + ended.toEpochMilli(),
                        "node-1 job-e 6 FENCED - " + ended.toEpochMilli() + " " + why);
        assertThat(start.noted()).contains("node-1 job-a 1", "node-1 job-c 1", "node-1 job-begun 4", "node-1 job-d 5",
                "node-1 job-e 6", "node-1 job-old 3");
        assertThat(start.outcomesToRecord()).containsOnlyKeys("node-1 job-a 1", "node-1 job-b 2", "node-2 job-other 1");
        start.taken("node-1 job-a 1");
        assertThat(start.outcomesToRecord()).containsOnlyKeys("node-1 job-b 2", "node-2 job-other 1");
        assertThat(start.outcome("node-1", "job-a", 1)).as("still known for the sweep's words").isPresent();
    }

    /**
     * review55a F1 (M): the start's sweep deleted the file whatever its records came to, and an outcome the store
     * refused then was known only in that engine's memory: a second start before the store took it ran the command
     * again. Its lines (its begun line too) now stay, as they were written (a build before reads them as ever), until it
     * is taken; a line the engine's own stop writes meanwhile stays; the file goes once nothing is left.
     */
    @Test
    void theLinesOfAnOutcomeNotYetRecordedStayAfterTheSweepUntilItIsTaken() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Instant ended = Instant.parse("2026-12-07T06:01:20.123Z");
        StopsNotRecorded stop = new StopsNotRecorded(file, "node 1"); // a space: its lines hold node%201
        stop.begun(java.util.Map.of("job-a", 1));
        stop.add("job-a", 1, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, ended,
                dir.resolve("logs with space/attempt-1.log")));
        stop.add("job-b", 2, new StopsNotRecorded.Known(JobOutcome.Result.FAILED, 3, ended, null));
        stop.add("job-c", 4, new StopsNotRecorded.Cut(ended, null));
        // Lines of the format before the id was encoded, as the build before wrote them: read, and kept, as they are.
        Files.writeString(file, "node 1 job-d 1 SUCCEEDED 0 5\n", java.nio.file.StandardOpenOption.APPEND);
        java.util.List<String> written = Files.readAllLines(file);

        StopsNotRecorded start = new StopsNotRecorded(file, "node 1");
        start.taken("node%201 job-b 2"); // recorded by the start's sweep
        start.swept(); // the store refused the others
        assertThat(Files.readAllLines(file)).as("the lines of the outcomes not recorded, as written").containsExactly(
                written.get(0), written.get(1), written.get(2), "node 1 job-d 1 SUCCEEDED 0 5");
        start.add("job-e", 2); // this engine's own stop, later
        start.taken("node%201 job-a 1");
        assertThat(Files.readAllLines(file)).containsExactly(written.get(0), "node 1 job-d 1 SUCCEEDED 0 5",
                "node%201 job-e 2");

        StopsNotRecorded next = new StopsNotRecorded(file, "node 1");
        assertThat(next.outcomesToRecord()).containsOnlyKeys("node%201 job-d 1");
        assertThat(next.contains("node 1", "job-e", 2)).isTrue();
        Files.delete(file); // by hand: the stop notes again what is still to be recorded
        next.keepPending();
        assertThat(new StopsNotRecorded(file, "node 1").outcome("node 1", "job-d", 1))
                .contains(new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, Instant.ofEpochMilli(5), null));
        next.keepPending();
        assertThat(Files.readAllLines(file)).as("not twice").hasSize(2);
        next.swept();
        next.taken("node%201 job-d 1");
        assertThat(file).as("nothing left").doesNotExist();
        assertThat(dir.resolve(StopsNotRecorded.NEXT_NAME)).doesNotExist();
    }

    /**
     * review37 F3: a node id holding a space (deprecated, accepted) and a '%': a stop's lines written now, and lines the
     * version before wrote with the raw id, are read by the next start under that id, as begun, cut short and with
     * their outcome; a line of another node's encoded id is read under that id.
     */
    @Test
    void aNodeIdWithASpaceKeepsItsStopsLinesOfTheNewAndTheOldFormat() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        String node = "node a%1";
        Instant ended = Instant.parse("2026-12-04T10:01:20.123Z");
        StopsNotRecorded stop = new StopsNotRecorded(file, node);
        stop.begun(java.util.Map.of("job-new-begun", 1));
        stop.add("job-new", 2, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, ended,
                dir.resolve("logs with space/attempt-2.log")));
        stop.add("job-new-cut", 3, new StopsNotRecorded.Cut(ended, null));
        assertThat(Files.readAllLines(file)).as("the id one word").contains("node%20a%251 job-new-begun 1 begun",
                "node%20a%251 job-new-cut 3 STOPPED - " + ended.toEpochMilli());
        // Lines the version before wrote (the raw id), and one of another node's id written now.
        Files.writeString(file, node + " job-old-begun 4 begun\n"
                + node + " job-old 5 SUCCEEDED 0 " + ended.toEpochMilli() + " /var/log/x y.log\n"
                + node + " job-old-cut 6\n"
                + "other%20b job-other 7 begun\n", java.nio.file.StandardOpenOption.APPEND);

        StopsNotRecorded start = new StopsNotRecorded(file, node);
        assertThat(start.begunUnder(node, "job-new-begun", 1)).as("a stop began under it: not a death").isTrue();
        assertThat(start.outcome(node, "job-new", 2)).contains(new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED,
                0, ended, dir.resolve("logs with space/attempt-2.log")));
        assertThat(start.cut(node, "job-new-cut", 3)).contains(new StopsNotRecorded.Cut(ended, null));
        assertThat(start.begunUnder(node, "job-old-begun", 4)).as("old format, begun").isTrue();
        assertThat(start.outcome(node, "job-old", 5)).as("old format, the outcome the stop knew").contains(
                new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, ended, Path.of("/var/log/x y.log")));
        assertThat(start.contains(node, "job-old-cut", 6)).as("old format, cut short").isTrue();
        assertThat(start.containsJob(node, "job-old-begun")).isTrue();
        assertThat(start.begunUnder("other b", "job-other", 7)).as("another node's encoded id").isTrue();
        assertThat(start.outcomesToRecord().keySet()).extracting(StopsNotRecorded::nodeOf).containsOnly(node);
        assertThat(start.noted()).extracting(StopsNotRecorded::nodeOf).contains(node, "other b");
    }

    @Test
    void aNodeIdIsOneWordAndReadBack() {
        for (String id : new String[] {"node-1", "node a", "a%20b", "50%", "tab\there", " lead", "é ü", "a\u00a0b"}) {
            String word = StopsNotRecorded.word(id);
            assertThat(word).doesNotContain(" ").doesNotContain("\t");
            assertThat(StopsNotRecorded.decoded(word)).isEqualTo(id);
        }
        assertThat(StopsNotRecorded.word("node-1")).isEqualTo("node-1");
        assertThat(StopsNotRecorded.decoded("a%zz")).as("not an encoding: as it is").isEqualTo("a%zz");
    }

    /**
     * tryout25 F9: a file an older build wrote, its header repeated before each entry (as found after a self-fenced
     * node's stop), is read whole by the next start: every header line is a comment.
     */
    @Test
    void aFileOfAnOlderBuildWithItsHeaderRepeatedIsReadWhole() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Files.writeString(file, StopsNotRecorded.HEADER + "\n"
                + "node-1 job-a 2 FENCED - 1796224007352 killed by its own node: no heartbeat could be written\n"
                + StopsNotRecorded.HEADER + "\n"
                + "node-1 job-b 1 FENCED - 1796224007346 killed by its own node: no heartbeat could be written\n");

        StopsNotRecorded start = new StopsNotRecorded(file, "node-1");
        assertThat(start.cut("node-1", "job-a", 2)).contains(new StopsNotRecorded.Cut(
                Instant.ofEpochMilli(1796224007352L), "killed by its own node: no heartbeat could be written"));
        assertThat(start.cut("node-1", "job-b", 1)).contains(new StopsNotRecorded.Cut(
                Instant.ofEpochMilli(1796224007346L), "killed by its own node: no heartbeat could be written"));
        assertThat(start.noted()).containsExactlyInAnyOrder("node-1 job-a 2", "node-1 job-b 1");
    }

    /** tryout25 F9: the jobs' threads of one stop note at once, and each that found no file wrote the header. */
    @Test
    void notesWrittenAtOnceByManyJobsGiveOneHeader() throws Exception {
        for (int round = 0; round < 10; round++) {
            notesWrittenAtOnce(dir.resolve("round-" + round));
        }
    }

    private void notesWrittenAtOnce(Path folder) throws Exception {
        Files.createDirectories(folder);
        Path file = folder.resolve(StopsNotRecorded.FILE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1");
        int jobs = 64;
        java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(jobs);
        java.util.concurrent.ExecutorService threads = java.util.concurrent.Executors.newFixedThreadPool(jobs);
        try {
            java.util.List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                String job = "job-" + i;
                done.add(threads.submit(() -> {
                    together.await();
                    stop.add(job, 1, new StopsNotRecorded.Cut(Instant.parse("2026-12-02T15:06:47.346Z"), "fenced"));
                    return null;
                }));
            }
            for (java.util.concurrent.Future<?> f : done) {
                f.get();
            }
        } finally {
            threads.shutdownNow();
        }

        java.util.List<String> lines = Files.readAllLines(file);
        assertThat(lines).filteredOn(l -> l.startsWith("#")).hasSize(1);
        assertThat(lines.get(0)).startsWith("# buildhook stops-not-recorded 2");
        assertThat(lines).hasSize(jobs + 1);
        StopsNotRecorded start = new StopsNotRecorded(file, "node-1");
        for (int i = 0; i < jobs; i++) {
            assertThat(start.contains("node-1", "job-" + i, 1)).isTrue();
        }
    }

    /**
     * tryout43 F1: a stop's note finds its disk full (the store's own disk, the common case with SQLite): the room kept
     * beside it is freed, a part at a time, and the note written again, whole (the part a failed try wrote is cut off),
     * on disk, so the stop may say it is kept. Before, the write failed, the file stayed empty and nothing said so.
     * The full disk is the one injected failure (the seam {@link StopsNotRecorded.Disk}): the write fails for want of
     * space, having written half of what it was given, until the room kept has shrunk.
     */
    @Test
    void aNoteThatFindsTheDiskFullFreesThePartOfTheRoomKeptForItAndIsWrittenWhole() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Path reserve = dir.resolve(StopsNotRecorded.RESERVE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1", 4);
        stop.keepRoom();
        long room = stop.room();
        assertThat(room).isEqualTo(StopsNotRecorded.LEAST_ROOM);
        assertThat(Files.size(reserve)).isEqualTo(room);
        int[] full = {0};
        stop.writingWith((channel, bytes, at) -> {
            if (Files.size(reserve) == room) {
                full[0]++;
                bytes.limit(bytes.position() + bytes.remaining() / 2);
                StopsNotRecorded.Disk.REAL.write(channel, bytes, at);
                throw new java.io.IOException("No space left on device");
            }
            StopsNotRecorded.Disk.REAL.write(channel, bytes, at);
        });

        stop.begun(java.util.Map.of("job-a", 1));
        StopsNotRecorded.Note note = stop.add("job-a", 1, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0,
                Instant.parse("2026-12-05T18:15:03.503Z"), null));

        assertThat(full[0]).as("the disk was full for the first note").isEqualTo(1);
        assertThat(note.kept()).as(note.problem()).isTrue();
        assertThat(stop.begunKept("job-a", 1)).isTrue();
        assertThat(Files.size(reserve)).as("one part freed, the rest kept for the later notes")
                .isEqualTo(room - StopsNotRecorded.CHUNK);
        assertThat(Files.readAllLines(file)).containsExactly(StopsNotRecorded.HEADER, "node-1 job-a 1 begun",
                "node-1 job-a 1 SUCCEEDED 0 1796494503503");
        stop.keepRoom();
        assertThat(Files.size(reserve)).as("not grown back before the next start").isEqualTo(room - StopsNotRecorded.CHUNK);
        StopsNotRecorded start = new StopsNotRecorded(file, "node-2", 4);
        assertThat(start.outcome("node-1", "job-a", 1)).isPresent();
        start.keepRoom();
        assertThat(Files.size(reserve)).as("the next start keeps it whole again").isEqualTo(room);
    }

    /**
     * tryout43 F1: a note that cannot be written even so (a read-only file system) says why, for the stop's words
     * ("could NOT be kept", never "Kept in"), and leaves the room kept as it was: no space was wanted.
     */
    @Test
    void aNoteTheFileSystemRefusesForAnotherReasonSaysWhyAndLeavesTheRoomKept() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1");
        stop.keepRoom();
        stop.writingWith((channel, bytes, at) -> {
            throw new java.nio.file.FileSystemException(file.toString(), null, "Read-only file system");
        });

        StopsNotRecorded.Note note = stop.add("job-a", 1, new StopsNotRecorded.Known(JobOutcome.Result.FAILED, 3,
                null, null));

        assertThat(note.kept()).isFalse();
        assertThat(note.problem()).isEqualTo(file + ": Read-only file system");
        assertThat(note.lines()).isEqualTo("node-1 job-a 1 FAILED 3 -\n");
        assertThat(Files.size(dir.resolve(StopsNotRecorded.RESERVE_NAME))).isEqualTo(stop.room());
        assertThat(Files.size(file)).as("nothing of the failed note left").isZero();
    }

    /**
     * review57a F1: a stop keeps its node's claim of its id, which names this data folder for a node of the same host,
     * while the folder keeps what the store has not recorded: an outcome, a cut short (of either format), a fencing, an
     * outcome read at the start and not taken since, or a note this engine's stop made though it could not write it
     * (its begun line speaks for it then). The begun lines a stop whose records went through leaves behind are not.
     */
    @Test
    void theFolderHoldsWhatTheStoreHasNotRecordedButNotTheBegunLinesOfAStopThatRecordedAll() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        assertThat(new StopsNotRecorded(file, "node-1").holdsUnrecorded()).as("no file").isFalse();
        assertThat(StopsNotRecorded.none("node-1").holdsUnrecorded()).as("no data folder").isFalse();

        StopsNotRecorded stop = new StopsNotRecorded(file, "node 1");
        stop.begun(java.util.Map.of("job-a", 1, "job-b", 2));
        assertThat(stop.holdsUnrecorded()).as("a stop whose records went through").isFalse();
        assertThat(new StopsNotRecorded(file, "node-2").holdsUnrecorded()).as("as the next start reads it").isFalse();

        for (String line : java.util.List.of("node%201 job-a 1", "node%201 job-a 1 STOPPED - 5",
                "node%201 job-a 1 FENCED - 5 killed by its own node: begun", "node%201 job-a 1 SUCCEEDED 0 5")) {
            Files.writeString(file, StopsNotRecorded.HEADER + "\nnode%201 job-b 2 begun\n" + line + "\n");
            assertThat(new StopsNotRecorded(file, "node-2").holdsUnrecorded()).as(line).isTrue();
        }

        // An outcome read at the start and not recorded yet, though its lines are gone from the file (deleted by hand).
        StopsNotRecorded start = new StopsNotRecorded(file, "node-2");
        Files.delete(file);
        assertThat(start.holdsUnrecorded()).isTrue();
        start.taken("node%201 job-a 1");
        assertThat(start.holdsUnrecorded()).isFalse();

        // A note this engine's stop could not write.
        StopsNotRecorded full = new StopsNotRecorded(file, "node-1");
        full.writingWith((channel, bytes, at) -> {
            throw new java.nio.file.FileSystemException(file.toString(), null, "Read-only file system");
        });
        assertThat(full.add("job-c", 1, new StopsNotRecorded.Cut(Instant.now(), null)).kept()).isFalse();
        assertThat(full.holdsUnrecorded()).isTrue();
    }

    /**
     * The room kept grows with runner.threads (the notes of that many attempts at their longest), and is made again
     * when deleted. tryout43 F2: the note and the room are 0640 whatever the umask (run under umask 0002, Ubuntu's
     * default for users, they were 0664).
     */
    @Test
    void theRoomKeptIsForEveryAttemptAtOnceAndBothFilesAre0640() throws Exception {
        assertThat(StopsNotRecorded.roomFor("node-1", 1000)).as("1000 attempts at once")
                .isGreaterThan(1000 * 4096L + StopsNotRecorded.ROOM_BESIDE);
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Path reserve = dir.resolve(StopsNotRecorded.RESERVE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1", 200);
        stop.keepRoom();
        assertThat(Files.size(reserve)).isEqualTo(StopsNotRecorded.roomFor("node-1", 200)).isGreaterThan(
                StopsNotRecorded.LEAST_ROOM);
        Files.delete(reserve);
        stop.keepRoom();
        assertThat(Files.size(reserve)).as("made again").isEqualTo(stop.room());
        stop.add("job-a", 1);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
                .isEqualTo("rw-r-----");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(reserve)))
                .isEqualTo("rw-r-----");
    }

    /**
     * A job's thread whose interrupt flag is set when it notes its attempt (db-scheduler's stop interrupts the jobs'
     * threads once its own bound is over, which a busy machine reaches while a thread still waits for the hung store)
     * still writes its note, and keeps the flag. Before, the interruptible FileChannel closed itself at the write
     * (ClosedByInterruptException): the note was lost, and the next start said the node had been killed during its
     * stop, and recorded the attempt's end at that start (CI of 1d30da4f, StopCutShortWithStoreHungTest).
     */
    @Test
    void aThreadInterruptedWhileItNotesStillWritesTheNoteAndStaysInterrupted() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Instant ended = Instant.parse("2026-12-06T00:38:00.123Z");
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1");
        stop.keepRoom();
        StopsNotRecorded.Note begun;
        StopsNotRecorded.Note cut;
        StopsNotRecorded.Note known;
        boolean stillInterrupted;
        Thread.currentThread().interrupt();
        try {
            stop.begun(java.util.Map.of("job-a", 1));
            cut = stop.add("job-a", 1, new StopsNotRecorded.Cut(ended, null));
            known = stop.add("job-b", 2, new StopsNotRecorded.Known(JobOutcome.Result.SUCCEEDED, 0, ended, null));
            stop.keepRoom();
        } finally {
            stillInterrupted = Thread.interrupted();
        }
        assertThat(stillInterrupted).as("the interrupt is kept for the thread's own code").isTrue();
        assertThat(cut.kept()).as("cut: %s", cut.problem()).isTrue();
        assertThat(known.kept()).as("known: %s", known.problem()).isTrue();
        assertThat(stop.begunKept("job-a", 1)).isTrue();
        assertThat(Files.readAllLines(file)).contains("node-1 job-a 1 begun",
                "node-1 job-a 1 STOPPED - " + ended.toEpochMilli(),
                "node-1 job-b 2 SUCCEEDED 0 " + ended.toEpochMilli());
        StopsNotRecorded next = new StopsNotRecorded(file, "node-1");
        assertThat(next.contains("node-1", "job-a", 1)).as("the next start reads the cut").isTrue();
        assertThat(next.outcome("node-1", "job-b", 2)).isPresent();
    }

    /**
     * An interrupt that comes in the middle of a note's write (half of it on disk, then the file closed under the
     * thread): the note is written again from where it began, whole and once, and the next note follows it on its own
     * line; the interrupt is kept.
     */
    @Test
    void aNoteInterruptedHalfWrittenIsWrittenAgainWholeFromWhereItBegan() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        Instant ended = Instant.parse("2026-12-06T00:38:00.123Z");
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1").writingWith((channel, bytes, at) -> {
            if (writes.incrementAndGet() == 2) { // the cut's note: half of it, then the interrupt
                java.nio.ByteBuffer half = bytes.duplicate();
                half.limit(half.position() + half.remaining() / 2);
                StopsNotRecorded.Disk.REAL.write(channel, half, at);
                Thread.currentThread().interrupt();
                channel.write(java.nio.ByteBuffer.wrap(new byte[] {'x'}), at + 1); // throws: closed by the interrupt
            }
            StopsNotRecorded.Disk.REAL.write(channel, bytes, at);
        });
        stop.add("job-a", 1);
        StopsNotRecorded.Note cut = stop.add("job-b", 2, new StopsNotRecorded.Cut(ended, null));
        boolean stillInterrupted = Thread.interrupted();
        stop.add("job-c", 3);
        assertThat(stillInterrupted).isTrue();
        assertThat(writes).hasValue(4);
        assertThat(cut.kept()).as("%s", cut.problem()).isTrue();
        assertThat(Files.readAllLines(file)).containsExactly(StopsNotRecorded.HEADER, "node-1 job-a 1",
                "node-1 job-b 2 STOPPED - " + ended.toEpochMilli(), "node-1 job-c 3");
    }

    /**
     * review45: a note whose every try an interrupt closes (the thread interrupted again at each) is given up after
     * the tries, and its problem says so: it said "an input/output error", which sent the operator to the disk. Nothing
     * of it is left in the file, and the interrupt is kept.
     */
    @Test
    void aNoteInterruptedAtEveryTrySaysItWasInterruptedNotAnInputOutputError() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1").writingWith((channel, bytes, at) -> {
            writes.incrementAndGet();
            Thread.currentThread().interrupt();
            StopsNotRecorded.Disk.REAL.write(channel, bytes, at); // throws: closed by the interrupt
        });
        StopsNotRecorded.Note note = stop.add("job-a", 1);
        boolean stillInterrupted = Thread.interrupted();

        assertThat(stillInterrupted).isTrue();
        assertThat(note.kept()).isFalse();
        assertThat(note.problem()).contains(file.toString()).contains("interrupted 9 times")
                .doesNotContain("input/output");
        assertThat(writes).hasValue(9);
        assertThat(Files.readString(file)).doesNotContain("job-a");
    }

    /**
     * review45: the room kept for the notes is kept through an interrupt of the thread keeping it (the stop interrupts
     * the heartbeat's thread, which keeps it every interval; the node's start may run on an interrupted thread), and
     * the interrupt stays. Before, the channel closed under its write: the room stayed short for the stop's notes, and
     * a WARN said "an input/output error".
     */
    @Test
    void theRoomIsKeptThroughAnInterruptOfItsThread() throws Exception {
        Path file = dir.resolve(StopsNotRecorded.FILE_NAME);
        StopsNotRecorded stop = new StopsNotRecorded(file, "node-1");
        boolean stillInterrupted;
        Thread.currentThread().interrupt();
        try {
            stop.keepRoom();
        } finally {
            stillInterrupted = Thread.interrupted();
        }

        assertThat(stillInterrupted).isTrue();
        assertThat(Files.size(file.resolveSibling(StopsNotRecorded.RESERVE_NAME))).isEqualTo(stop.room());
    }
}
