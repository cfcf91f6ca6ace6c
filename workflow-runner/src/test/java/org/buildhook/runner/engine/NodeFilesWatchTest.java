package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.exec.NodeFilesException;
import org.buildhook.runner.exec.NodeFolders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The watch's probes, on real folders. */
class NodeFilesWatchTest {

    @TempDir
    Path dir;

    private final AtomicInteger pauses = new AtomicInteger();
    private final AtomicInteger resumes = new AtomicInteger();
    private final NodeFilesWatch watch = new NodeFilesWatch("node-a", Clock.systemUTC(), Duration.ofSeconds(5),
            pauses::incrementAndGet, resumes::incrementAndGet);

    /**
     * buildhook's own default working directory is the jobs' shared cwd: the recheck only makes it, as the
     * attempt does, and writes nothing into it. Before, it wrote and deleted {@code .buildhook-write-probe}
     * there, a file a running job could list, or had made itself and lost (review18 R11).
     */
    @Test
    void theRecheckOfTheJobsWorkingDirectoryWritesNothingInIt() throws IOException {
        Path work = dir.resolve("work");
        watch.failed(NodeFilesException.folderNotMade("the jobs' working directory " + work, work,
                new NotDirectoryException(work.toString())));
        assertThat(pauses).hasValue(1);
        Files.createDirectories(work);
        Path jobsOwn = Files.writeString(work.resolve(".buildhook-write-probe"), "a job's own file");
        FileTime before = FileTime.from(Instant.now().minus(Duration.ofHours(1)));
        Files.setLastModifiedTime(work, before);

        watch.recheck();

        assertThat(resumes).hasValue(1);
        assertThat(watch.problem()).isEmpty();
        assertThat(jobsOwn).hasContent("a job's own file");
        try (var listed = Files.list(work)) {
            assertThat(listed).containsExactly(jobsOwn);
        }
        // Nothing was created or deleted in it, even for a moment.
        assertThat(Files.getLastModifiedTime(work)).isEqualTo(before);
    }

    /** A folder the node writes files into: the probe's file is its own (a unique name), and gone after. */
    @Test
    void theRecheckOfAPayloadFolderLeavesNothingAndNoFileOfAnyoneElseIsTouched() throws IOException {
        Path payloads = dir.resolve("payloads");
        Files.writeString(payloads, "not a folder");
        watch.lookAtStart(List.of(new NodeFolders.Folder("the payload folder", payloads, true)));
        assertThat(watch.problem()).contains("jobs do not start on this node: it cannot write " + payloads
                + " (a file is where the folder goes)");
        Files.delete(payloads);
        Files.createDirectories(payloads);
        Path other = Files.writeString(payloads.resolve(".buildhook-write-probe"), "not the probe's");

        watch.recheck();

        assertThat(resumes).hasValue(1);
        assertThat(other).hasContent("not the probe's");
        try (var listed = Files.list(payloads)) {
            assertThat(listed).containsExactly(other);
        }
    }
}
