package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * {@link FollowedNotes}' cases that a real job cannot be made to show on time: an older server (no notes header), a
 * follow whose offsets are not the log's, a line that begins like a note and does not end, a line cut between two
 * pieces of the stream, a server that does not answer the ask or whose follow broke in the middle of a line (each such
 * line marked as not vouched for, never bare: tryout42 F13), and an ordinary line, which is never held nor asked about. The server's answers are read
 * from a log held here, as the server reads its file ({@code ?notes=1&from=N&length=M}).
 */
class FollowedNotesLinesTest {

    private final StringWriter shown = new StringWriter();
    private final AtomicInteger asked = new AtomicInteger();
    private final AtomicInteger legends = new AtomicInteger();
    private final AtomicInteger doubts = new AtomicInteger();

    /** Pages of {@code log} with the header {@code header} (null: an older server, which sends none). */
    private FollowedNotes following(byte[] log, String header) {
        return following(() -> log, header);
    }

    /** As {@link #following(byte[], String)}, of a log that grows: {@code file} is what it holds when asked. */
    private FollowedNotes following(java.util.function.Supplier<byte[]> file, String header) {
        FollowedNotes.Pages pages = (from, length) -> {
            asked.incrementAndGet();
            byte[] log = file.get();
            int start = (int) Math.min(from, log.length);
            return new AdminClient.LogPage(Arrays.copyOfRange(log, start, Math.min(log.length, start + length)), header);
        };
        return new FollowedNotes(shown, shown, 0, pages, legends::incrementAndGet, doubts::incrementAndGet);
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aNoteNamedByTheRecordIsMarkedEvenWhenItsLineComesInPieces() throws Exception {
        byte[] log = bytes("one\n[buildhook] killed: timed out\nforged? no\n");
        FollowedNotes notes = following(log, "recorded; 4+30");
        notes.write(log, 0, 6); // "one\n[b"
        assertThat(shown.toString()).isEqualTo("one\n"); // held: it may be a note
        notes.write(log, 6, log.length - 6);
        notes.end();
        assertThat(shown.toString()).isEqualTo("one\n" + TerminalNotes.NOTE + "[buildhook] killed: timed out\nforged? no\n");
        assertThat(legends).hasValue(1);
    }

    /**
     * The server says "unknown" while the log's first note creates its record (it read no record before the bytes and
     * one after): asked again, the note is marked. Before, that one answer left the real note unmarked (the stressed
     * FollowedNotesTest at load 12).
     */
    @Test
    void aNoteWhoseRecordIsBeingMadeIsAskedAgainAndMarked() throws Exception {
        byte[] log = bytes("one\n[buildhook] killed: cancelled\n");
        AtomicInteger answers = new AtomicInteger();
        FollowedNotes.Pages pages = (from, length) -> {
            asked.incrementAndGet();
            int start = (int) Math.min(from, log.length);
            byte[] page = Arrays.copyOfRange(log, start, Math.min(log.length, start + length));
            return new AdminClient.LogPage(page, answers.getAndIncrement() == 0 ? "unknown" : "recorded; 4+30");
        };
        FollowedNotes notes = new FollowedNotes(shown, shown, 0, pages, legends::incrementAndGet);
        notes.write(log, 0, log.length);
        notes.end();
        assertThat(shown.toString()).isEqualTo("one\n" + TerminalNotes.NOTE + "[buildhook] killed: cancelled\n");
        assertThat(asked).hasValue(2);
    }

    /**
     * A log whose notes are never known (an older build's log, a record a full disk left empty): the first look-alike
     * line is asked about until the bound (its record may be being made), every later one once, and all are shown as
     * not vouched for (tryout42 F13: they were shown bare, as buildhook's own lines). Before, each was held and asked
     * about for the whole bound: {@code logs -f} of such a log stalled one second at each of its {@code [buildhook] }
     * lines (review37).
     */
    @Test
    void aLogWhoseNotesStayUnknownHoldsOnlyItsFirstLookAlikeForTheBound() throws Exception {
        byte[] first = bytes("[buildhook] attempt 1 started\n");
        byte[] rest = bytes("built\n[buildhook] two\n[buildhook] three\n[buildhook] four\n");
        byte[] log = new byte[first.length + rest.length];
        System.arraycopy(first, 0, log, 0, first.length);
        System.arraycopy(rest, 0, log, first.length, rest.length);
        FollowedNotes notes = following(log, "unknown");
        notes.write(first, 0, first.length);
        assertThat(asked.get()).as("the first line is asked about again: its record may be being made")
                .isGreaterThan(1);
        int afterTheFirst = asked.get();
        notes.write(rest, 0, rest.length);
        notes.end();
        assertThat(asked.get() - afterTheFirst).as("each later look-alike line asked about once").isEqualTo(3);
        assertThat(shown.toString()).isEqualTo(doubted(log));
        assertThat(legends).hasValue(1);
        assertThat(doubts).hasValue(1);
    }

    @Test
    void anOrdinaryLineIsNeitherHeldNorAskedAbout() throws Exception {
        byte[] log = bytes("[build 67] compiling\n[buildhook]x\nplain [buildhook] inside\n");
        FollowedNotes notes = following(log, "recorded");
        notes.write(log, 0, 3); // "[bu": could begin a note
        assertThat(shown.toString()).isEmpty();
        notes.write(log, 3, 4); // "ild 6": it does not
        assertThat(shown.toString()).isEqualTo("[build ");
        notes.write(log, 7, log.length - 7);
        notes.end();
        assertThat(shown.toString()).isEqualTo(new String(log, StandardCharsets.UTF_8));
        assertThat(asked).hasValue(0);
        assertThat(legends).hasValue(0);
    }

    @Test
    void anOlderServerVouchesForNoLineAndIsAskedOnce() throws Exception {
        byte[] log = bytes("[buildhook] one\n[buildhook] two\n");
        FollowedNotes notes = following(log, null);
        notes.write(log, 0, log.length);
        notes.end();
        assertThat(shown.toString()).isEqualTo(doubted(log));
        assertThat(asked).hasValue(1);
        assertThat(legends).hasValue(1);
    }

    /**
     * tryout42 F13: the server stopped (its graceful stop's last moment answers 503, then its port closes) or was
     * killed just after it sent a job's line that reads as buildhook's end line: the ask fails. The line was shown
     * bare, byte for byte buildhook's own end line; now it is marked as one the server did not vouch for, the meaning
     * said once. So is a line that begins like a note when the follow's answer broke in the middle of it.
     */
    @Test
    void aLineTheServerCouldNotBeAskedAboutIsNeverShownBare() throws Exception {
        byte[] log = bytes("deploying\n[buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))\n[buildhook] job J");
        FollowedNotes.Pages gone = (from, length) -> {
            asked.incrementAndGet();
            throw new CommandFailure("the server at http://localhost:1/ answered this command before and now refuses"
                    + " connections", ExitCodes.UNAVAILABLE);
        };
        FollowedNotes notes = new FollowedNotes(shown, shown, 0, gone, legends::incrementAndGet,
                doubts::incrementAndGet);
        notes.write(log, 0, log.length);
        notes.end(true); // the answer broke after "[buildhook] job J"
        assertThat(shown.toString()).isEqualTo("deploying\n" + TerminalNotes.MAY_BE_THE_COMMANDS
                + "[buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))\n" + TerminalNotes.MAY_BE_THE_COMMANDS
                + "[buildhook] job J");
        assertThat(asked).hasValue(1);
        assertThat(legends).hasValue(1);
        assertThat(doubts).hasValue(1);
    }

    /** {@code log}'s text with each line that begins {@code [buildhook] } marked as not vouched for. */
    private static String doubted(byte[] log) {
        return new String(log, StandardCharsets.UTF_8).replaceAll("(?m)^\\[buildhook\\] ",
                java.util.regex.Matcher.quoteReplacement(TerminalNotes.MAY_BE_THE_COMMANDS) + "[buildhook] ");
    }

    @Test
    void whenTheLogHasOtherBytesThereNothingIsVouchedForFromThenOn() throws Exception {
        // The follow's stream has a line of the server's own (a truncated log's "bytes dropped here") that the file
        // does not: at that offset the file holds the command's look-alike, named by no record.
        byte[] file = bytes("a\n[buildhook] forged\n[buildhook] real\n");
        byte[] stream = bytes("a\n[buildhook] log truncated: 9 bytes dropped here\n[buildhook] real\n");
        FollowedNotes notes = following(file, "recorded; 21+17");
        notes.write(stream, 0, stream.length);
        notes.end();
        assertThat(shown.toString()).isEqualTo(doubted(stream));
        assertThat(asked).hasValue(1);
    }

    @Test
    void aLookAlikeAtTheLogsEndIsTheCommandsOnceTheBoundPassedAndSoIsOneThatDoesNotEnd() throws Exception {
        byte[] log = bytes("[buildhook] forged\n[buildhook] no end yet");
        java.util.concurrent.atomic.AtomicReference<byte[]> file = new java.util.concurrent.atomic.AtomicReference<>(
                Arrays.copyOf(log, 19));
        FollowedNotes notes = following(file::get, "recorded");
        long began = System.nanoTime();
        notes.write(log, 0, 19);
        // Asked until the bound passed (a note's record follows its bytes), then said to be the command's.
        assertThat(System.nanoTime() - began).isGreaterThanOrEqualTo(FollowedNotes.BOUND.toNanos());
        assertThat(asked.get()).isGreaterThan(1);
        assertThat(shown.toString()).isEqualTo(TerminalNotes.PRINTED_BY_THE_COMMAND + "[buildhook] forged\n");
        file.set(log);
        notes.write(log, 19, log.length - 19);
        // Not ended within the bound: a note is written whole, so the command's (tryout41 F7: it was shown unmarked,
        // as the follow's real end line was).
        await().atMost(Duration.ofMinutes(1)).until(() -> shown.toString().endsWith("no end yet"));
        assertThat(shown.toString()).endsWith("\n" + TerminalNotes.PRINTED_BY_THE_COMMAND + "[buildhook] no end yet");
        String after = shown.toString();
        notes.write(bytes("!\n"), 0, 2); // the rest of that line, as it came
        notes.end();
        assertThat(shown.toString()).isEqualTo(after + "!\n");
    }
}
