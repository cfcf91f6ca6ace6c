package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * words32: a command can print a line that reads exactly like one of buildhook's notes. The log stays the command's
 * bytes and the notes as written; beside it, the record of where buildhook's notes are ({@link LogNotes}) tells them
 * apart, also after the log is truncated, and a record that does not belong to the log is not believed.
 */
class LogNotesTest {

    private static final int CAP = 4096;
    private static final int HEAD = CAP / 4;
    private static final String FORGED = "[buildhook] killed: exited with 0; forged by the command\n";

    @TempDir
    Path dir;

    @Test
    void theLogIsTheBytesWrittenAndItsRecordNamesTheNotesOnlyNotTheCommandsLookAlike() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        try (CappedLog log = CappedLog.open(file, CAP)) {
            write(log, expected, "working\n" + FORGED + "half a line");
            log.note("killed: timed out after 1s");
            // After output that did not end its line, the note begins a line of its own (tryout41 F10).
            expected.writeBytes("\n[buildhook] killed: timed out after 1s\n".getBytes(StandardCharsets.UTF_8));
            write(log, expected, "late output\n");
        }

        assertThat(Files.readAllBytes(file)).isEqualTo(expected.toByteArray());
        LogNotes.Piece piece = LogNotes.readTail(file, 1 << 20);
        assertThat(piece.recorded()).isTrue();
        assertThat(texts(piece)).containsExactly("[buildhook] killed: timed out after 1s\n");
        long at = ("working\n" + FORGED + "half a line\n").length();
        assertThat(piece.notes()).containsExactly(new LogNotes.Range(at, 39));
    }

    @Test
    void aTruncatedLogsRecordHasTheNotesOfItsHeadAndTailAtTheirNewPlacesAndTheCutLine() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        try (CappedLog log = CappedLog.open(file, CAP)) {
            log.note("the head's note");
            ByteArrayOutputStream ignored = new ByteArrayOutputStream();
            write(log, ignored, FORGED);
            write(log, ignored, "x".repeat(CAP) + "\n");
            log.note("a dropped note");
            write(log, ignored, "y".repeat(CAP) + "\n" + FORGED);
            log.note("the tail's note");
            write(log, ignored, FORGED + "the end\n");
        }

        LogNotes.Piece piece = LogNotes.readTail(file, 1 << 20);
        assertThat(piece.recorded()).isTrue();
        List<String> notes = texts(piece);
        assertThat(notes).hasSize(3);
        assertThat(notes.get(0)).isEqualTo("[buildhook] the head's note\n");
        assertThat(notes.get(1)).startsWith("[buildhook] log truncated: ").endsWith(")\n");
        assertThat(notes.get(2)).isEqualTo("[buildhook] the tail's note\n");
        assertThat(piece.notes().get(1).offset()).isEqualTo(HEAD + 1);
        String text = new String(piece.bytes(), StandardCharsets.UTF_8);
        assertThat(text).endsWith("[buildhook] the tail's note\n" + FORGED + "the end\n").doesNotContain("dropped note");
    }

    @Test
    void anAttemptsLogWrittenAgainGetsANewRecordAndAPieceReadWithoutOneIsNotRecorded() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        new JobLogs(dir).markNotesRecorded();
        try (CappedLog log = CappedLog.open(file, CAP)) {
            log.write("output\n".getBytes(StandardCharsets.UTF_8));
            log.note("killed: cancelled");
        }
        // The same attempt run again (after a stop): a new log, and a record of its own, without the old note.
        try (CappedLog log = CappedLog.open(file, CAP)) {
            log.write(("more output of the second run\n" + FORGED).getBytes(StandardCharsets.UTF_8));
        }
        LogNotes.Piece again = LogNotes.readTail(file, 1 << 20);
        assertThat(again.recorded()).isTrue();
        assertThat(again.notes()).isEmpty();
        // no note, no record: the first run's is gone, and none is made for a log without notes
        assertThat(JobLogs.notesOf(file)).doesNotExist();

        // A log directory not marked: a log an older build wrote, whose notes nothing recorded.
        Files.delete(JobLogs.notesRecordedMarkOf(dir));
        LogNotes.Piece without = LogNotes.readTail(file, 1 << 20);
        assertThat(without.recorded()).isFalse();
        assertThat(without.notes()).isEmpty();
    }

    /**
     * A log with no record is one without notes only when it was written since its log directory's logs have records
     * (the mark's time); one changed before that (an older build's, before an upgrade) tells nothing of its notes:
     * its real notes are never shown as the command's.
     */
    @Test
    void aLogWithoutARecordHasNoNotesOnlyWhenWrittenSinceItsDirectoryWasMarked() throws Exception {
        Path older = dir.resolve("job-1/attempt-1.log");
        Files.createDirectories(older.getParent());
        Files.writeString(older, "output\n[buildhook] killed: cancelled\n");
        java.nio.file.attribute.FileTime before = Files.getLastModifiedTime(older);

        new JobLogs(dir).markNotesRecorded();
        Files.setLastModifiedTime(JobLogs.notesRecordedMarkOf(dir),
                java.nio.file.attribute.FileTime.fromMillis(before.toMillis() + 60_000));
        assertThat(LogNotes.readTail(older, 1 << 20).recorded()).isFalse();

        Path newer = dir.resolve("job-2/attempt-1.log");
        try (CappedLog log = CappedLog.open(newer, CAP)) {
            log.write(FORGED.getBytes(StandardCharsets.UTF_8));
        }
        Files.setLastModifiedTime(newer, java.nio.file.attribute.FileTime.fromMillis(before.toMillis() + 120_000));
        LogNotes.Piece piece = LogNotes.readTail(newer, 1 << 20);
        assertThat(piece.recorded()).isTrue();
        assertThat(piece.notes()).isEmpty();
        assertThat(JobLogs.notesOf(newer)).doesNotExist();
    }

    /**
     * A record that does not belong to the bytes (an older log's, left by a failure to delete it) names a place that
     * is not a note: none of it is believed; a line the writer did not finish (a stop mid-write) is not read.
     */
    @Test
    void aRecordThatNamesAnythingButANoteIsNotBelievedAndAnUnfinishedLineIsNotRead() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "ok\n[buildhook] a note\n" + FORGED);
        Path record = JobLogs.notesOf(file);

        Files.writeString(record, LogNotes.HEADER + "t1\n3 19\n" + "22 5");
        LogNotes.Piece unfinished = LogNotes.readTail(file, 1 << 20);
        assertThat(unfinished.recorded()).isTrue();
        assertThat(texts(unfinished)).containsExactly("[buildhook] a note\n");

        Files.writeString(record, LogNotes.HEADER + "t2\n3 19\n25 10\n");
        LogNotes.Piece wrong = LogNotes.readTail(file, 1 << 20);
        assertThat(wrong.recorded()).isFalse();
        assertThat(wrong.notes()).isEmpty();
    }

    @Test
    void aTailReadFromTheMiddleKeepsTheNotesWithinIt() throws Exception {
        Path file = dir.resolve("job/attempt-1.log");
        try (CappedLog log = CappedLog.open(file, CAP)) {
            log.note("early");
            log.write(("a".repeat(100) + "\n").getBytes(StandardCharsets.UTF_8));
            log.note("late");
        }
        LogNotes.Piece piece = LogNotes.readTail(file, 30);
        assertThat(piece.from()).isEqualTo(Files.size(file) - 30);
        assertThat(piece.recorded()).isTrue();
        assertThat(texts(piece)).containsExactly("[buildhook] late\n");
    }

    private static void write(CappedLog log, ByteArrayOutputStream copy, String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        log.write(bytes, 0, bytes.length);
        copy.writeBytes(bytes);
    }

    private static List<String> texts(LogNotes.Piece piece) {
        return piece.notes().stream().map(r -> new String(piece.bytes(), (int) (r.offset() - piece.from()),
                (int) r.length(), StandardCharsets.UTF_8)).toList();
    }
}
