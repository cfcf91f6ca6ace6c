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
        for (int round = 0; round < 30; round++) {
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
}
