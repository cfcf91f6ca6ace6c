package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

class CappedLogTest {

    private static final int CAP = 4096;
    private static final int HEAD = CAP / 4;

    @TempDir
    Path dir;

    @Test
    void writesEverythingBelowTheCapUnchanged() throws Exception {
        Path file = dir.resolve("a/b.log");
        byte[] bytes = randomBytes(CAP, 1);
        try (CappedLog log = CappedLog.open(file, CAP)) {
            log.write(bytes, 0, 1000);
            log.write(bytes, 1000, CAP - 1000);
            assertThat(log.truncated()).isFalse();
        }

        assertThat(Files.readAllBytes(file)).isEqualTo(bytes);
    }

    @Test
    void keepsTheHeadAndTheTailAndMarksWhereBytesWereDropped() throws Exception {
        Path file = dir.resolve("big.log");
        byte[] bytes = randomBytes(5 * CAP + 123, 2);
        CappedLog log = CappedLog.open(file, CAP);
        // Odd chunk sizes exercise every wrap of the ring buffer.
        for (int offset = 0, chunk = 1; offset < bytes.length; offset += chunk, chunk = chunk * 3 % 1001 + 1) {
            log.write(bytes, offset, Math.min(chunk, bytes.length - offset));
        }
        log.close();

        byte[] written = Files.readAllBytes(file);
        String marker = "\n[buildhook] log truncated: " + (bytes.length - CAP) + " bytes dropped here (log cap "
                + CAP + " bytes; the first " + HEAD + " and the last " + (CAP - HEAD) + " bytes are kept)\n";
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.write(bytes, 0, HEAD);
        expected.writeBytes(marker.getBytes(StandardCharsets.UTF_8));
        expected.write(bytes, bytes.length - (CAP - HEAD), CAP - HEAD);
        assertThat(written).isEqualTo(expected.toByteArray());
        assertThat(log.truncated()).isTrue();
        assertThat(log.error()).isNull();
    }

    /**
     * A reader of the live log ({@code logs -f}, the status page) used to have the truncated log
     * written under it in place, so it read on at its offset in the new content: a line glued from two,
     * and no sign of what was dropped (tryout11 F1). It keeps the bytes it opened; the path has the
     * truncated log.
     */
    @Test
    void aReaderOfTheLiveLogKeepsItsBytesWhileThePathGetsTheTruncatedLog() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        byte[] bytes = randomBytes(3 * CAP, 3);
        CappedLog log = CappedLog.open(file, CAP);
        log.write(bytes, 0, CAP + 10);
        try (FileChannel reader = FileChannel.open(file, StandardOpenOption.READ)) {
            log.write(bytes, CAP + 10, bytes.length - CAP - 10);
            log.close();

            java.nio.ByteBuffer live = java.nio.ByteBuffer.allocate(CAP + 1000);
            while (reader.read(live) > 0) {
                // to the end of what the reader opened
            }
            assertThat(Arrays.copyOf(live.array(), live.position())).isEqualTo(Arrays.copyOf(bytes, CAP));
        }
        byte[] written = Files.readAllBytes(file);
        assertThat(Arrays.copyOf(written, HEAD)).isEqualTo(Arrays.copyOf(bytes, HEAD));
        assertThat(new String(written, StandardCharsets.ISO_8859_1)).contains("\n[buildhook] log truncated: "
                + (bytes.length - CAP) + " bytes dropped here");
        assertThat(Arrays.copyOfRange(written, written.length - (CAP - HEAD), written.length))
                .isEqualTo(Arrays.copyOfRange(bytes, bytes.length - (CAP - HEAD), bytes.length));
        // no rewrite left behind: the log and the record of its notes (LogNotes)
        assertThat(Files.list(file.getParent())).containsExactlyInAnyOrder(file, JobLogs.notesOf(file));
        assertThat(log.truncated()).isTrue();
        assertThat(log.error()).isNull();
    }

    @Test
    void keepsTheTailOfOneWriteLargerThanTheCap() throws Exception {
        Path file = dir.resolve("one.log");
        byte[] bytes = randomBytes(3 * CAP, 3);
        try (CappedLog log = CappedLog.open(file, CAP)) {
            log.write(bytes, 0, bytes.length);
        }

        byte[] written = Files.readAllBytes(file);
        assertThat(Arrays.copyOfRange(written, 0, HEAD)).isEqualTo(Arrays.copyOfRange(bytes, 0, HEAD));
        assertThat(Arrays.copyOfRange(written, written.length - (CAP - HEAD), written.length))
                .isEqualTo(Arrays.copyOfRange(bytes, bytes.length - (CAP - HEAD), bytes.length));
    }

    /**
     * A stop in the middle of an attempt's rewrite leaves {@code .attempt-N.log.rewrite}; the attempt that runs
     * again in that folder removes it when its log opens, while a folder the open makes (a job's first attempt,
     * which skips that look) holds the log alone.
     */
    @Test
    void anEarlierRewritesLeftoverIsRemovedWhenTheFolderExistedAndANewFolderHoldsTheLogAlone() throws Exception {
        Path again = dir.resolve("job-1/attempt-1.log");
        Files.createDirectories(again.getParent());
        Files.writeString(JobLogs.rewriteOf(again), "half a rewrite");
        Path other = dir.resolve("job-1/attempt-2.log");
        Files.writeString(JobLogs.rewriteOf(other), "another attempt's");

        CappedLog reopened = CappedLog.open(again, CAP);
        reopened.close();
        CappedLog first = CappedLog.open(dir.resolve("job-2/attempt-1.log"), CAP);
        first.close();

        assertThat(reopened.error()).isNull();
        assertThat(JobLogs.rewriteOf(again)).doesNotExist();
        assertThat(JobLogs.rewriteOf(other)).hasContent("another attempt's");
        assertThat(first.error()).isNull();
        try (var files = Files.list(dir.resolve("job-2"))) {
            // the log alone: the record of its notes (LogNotes) is made at the first note only, so a log with none
            // costs no second file (a creation and a deletion per attempt: docs/BENCHMARKS.md)
            assertThat(files).containsExactly(dir.resolve("job-2/attempt-1.log"));
        }
    }

    @Test
    void keepsRunningAndRemembersTheErrorWhenTheLogCannotBeOpened() throws Exception {
        Files.writeString(dir.resolve("file"), "not a folder");
        CappedLog log = CappedLog.open(dir.resolve("file/x.log"), CAP);

        log.write(randomBytes(10 * CAP, 4), 0, 10 * CAP);
        log.close();

        assertThat(log.error()).isNotNull();
        assertThat(log.truncated()).isTrue();
    }

    @Test
    @EnabledIf("diskFullDeviceExists")
    void keepsDrainingAndRemembersTheErrorWhenTheDiskIsFull() throws Exception {
        FileChannel full = FileChannel.open(Path.of("/dev/full"), StandardOpenOption.WRITE);
        CappedLog log = new CappedLog(full, CAP, null);

        log.write(randomBytes(100, 5), 0, 100);
        log.write(randomBytes(100, 6), 0, 100);
        log.close();

        assertThat(log.error()).hasMessageContaining("No space left on device");
    }

    /**
     * review19 R6: a log past its cap whose tail cannot be written at close (here its in-place rewrite
     * fails once, injected: the disk filled up again after the cut freed it) still ends with the cut line,
     * as running-jobs.md says, instead of stopping after its head with nothing saying why.
     */
    @Test
    void aLogPastItsCapWhoseTailCannotBeWrittenEndsWithTheCutLine() throws Exception {
        Path file = dir.resolve("tail.log");
        FailingWrites channel = new FailingWrites(FileChannel.open(file, StandardOpenOption.CREATE,
                StandardOpenOption.READ, StandardOpenOption.WRITE));
        // Built on a channel alone, the log rewrites in place at close, through write(ByteBuffer).
        CappedLog log = new CappedLog(channel, CAP, null);
        byte[] bytes = randomBytes(3 * CAP, 7);
        log.write(bytes, 0, bytes.length);
        channel.failNextWrite = true;

        log.close();

        assertThat(log.error()).hasMessage("injected: No space left on device");
        String written = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        assertThat(written).startsWith(new String(bytes, 0, HEAD, StandardCharsets.ISO_8859_1));
        assertThat(written.substring(HEAD)).isEqualTo("\n[buildhook] log cut here: it could not be written"
                + " further (injected: No space left on device); " + (bytes.length - HEAD) + " bytes of output"
                + " are not in this log. The command ran on; its outcome is recorded with the job\n");
    }

    /** A real file's channel whose next relative write fails once, when told to. */
    private static final class FailingWrites extends FileChannel {
        private final FileChannel file;
        volatile boolean failNextWrite;

        FailingWrites(FileChannel file) {
            this.file = file;
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            if (failNextWrite) {
                failNextWrite = false;
                throw new IOException("injected: No space left on device");
            }
            return file.write(src);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return file.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return file.read(dsts, offset, length);
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            return file.write(srcs, offset, length);
        }

        @Override
        public long position() throws IOException {
            return file.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            file.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            file.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            file.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return file.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
            return file.transferFrom(src, position, count);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return file.read(dst, position);
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            return file.write(src, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return file.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return file.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return file.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            file.close();
        }
    }

    static boolean diskFullDeviceExists() {
        return Files.isWritable(Path.of("/dev/full"));
    }

    private static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /**
     * review32: a rewrite's leftover that cannot be deleted (here a folder with a file in it) fails the open, and the log's
     * channel opened before it is closed, not leaked (one file descriptor per such attempt).
     */
    @Test
    void anOpenThatFailsAfterTheLogWasOpenedLeavesNoDescriptorOnIt() throws Exception {
        Path log = dir.resolve("job-9/attempt-1.log");
        Files.createDirectories(JobLogs.rewriteOf(log));
        Files.writeString(JobLogs.rewriteOf(log).resolve("x"), "in the way");

        CappedLog failed = CappedLog.open(log, CAP);

        assertThat(failed.error()).isNotNull();
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            assertThat(fds.map(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString();
                } catch (java.io.IOException e) {
                    return "";
                }
            })).doesNotContain(log.toString());
        }
    }

    /**
     * A thread whose interrupt flag is set (a job thread whose wait the launcher's stop interrupted, writing its
     * {@code killed:} note; an output pump) writes the rest of the output, its note and the log's tail, and keeps
     * the flag. Before, the log's FileChannel closed itself at the first write (ClosedByInterruptException): the
     * output after it, the note and the whole tail past the cap were lost, and the outcome said "log incomplete: an
     * input/output error" (interrupt45).
     */
    @Test
    void aThreadInterruptedStillWritesItsOutputItsNoteAndTheTailAndStaysInterrupted() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        byte[] bytes = randomBytes(3 * CAP, 4);
        CappedLog log = CappedLog.open(file, CAP);
        log.write(bytes, 0, 100);
        boolean stillInterrupted;
        Thread.currentThread().interrupt();
        try {
            log.write(bytes, 100, bytes.length - 100);
            log.note("killed: cancelled: the server is shutting down");
            log.close();
        } finally {
            stillInterrupted = Thread.interrupted();
        }
        assertThat(stillInterrupted).as("the interrupt is kept for the thread's own code").isTrue();
        assertThat(log.error()).as("%s", log.error()).isNull();
        byte[] written = Files.readAllBytes(file);
        String text = new String(written, StandardCharsets.ISO_8859_1);
        assertThat(Arrays.copyOf(written, HEAD)).isEqualTo(Arrays.copyOf(bytes, HEAD));
        assertThat(text).contains("\n[buildhook] log truncated: ")
                .endsWith("\n[buildhook] killed: cancelled: the server is shutting down\n");
    }

    /** Below the cap, as above: the note is in the log and in the record of its notes, which is not dropped. */
    @Test
    void aThreadInterruptedStillRecordsItsNote() throws Exception {
        Path file = dir.resolve("job/attempt-2.log");
        CappedLog log = CappedLog.open(file, CAP);
        log.write("progress 50%".getBytes(StandardCharsets.UTF_8), 0, 12);
        boolean stillInterrupted;
        Thread.currentThread().interrupt();
        try {
            log.note("killed: cancelled: the server is shutting down");
            log.close();
        } finally {
            stillInterrupted = Thread.interrupted();
        }
        assertThat(stillInterrupted).isTrue();
        assertThat(log.error()).as("%s", log.error()).isNull();
        assertThat(Files.readString(file))
                .isEqualTo("progress 50%\n[buildhook] killed: cancelled: the server is shutting down\n");
        assertThat(Files.readString(JobLogs.notesOf(file))).endsWith("13 59\n");
    }
}
