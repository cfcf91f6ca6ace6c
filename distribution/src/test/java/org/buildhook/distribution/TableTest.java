package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class TableTest {

    /** A trigger name from a payload that holds terminal escape sequences: shown, never sent to the terminal. */
    @Test
    void showsControlCharactersOfAPayloadValueInsteadOfSendingThemToTheTerminal() {
        StringWriter text = new StringWriter();
        new Table("BUILD", "TRIGGER").row("4321", "\u001b[2J\u001b[31mEVIL\u001b[0m\rOVER\u009bWRITE")
                .row("67", "containers-devel").print(new PrintWriter(text));

        assertThat(text.toString()).contains("\\x1b[2J\\x1b[31mEVIL\\x1b[0m OVER\\x9bWRITE")
                .contains("containers-devel").doesNotContain("\u001b").doesNotContain("\u009b");
    }

    /** final18 F9: the message of a job its node could not start was cut before the reason. */
    @Test
    void theLastColumnIsNeverCutSoAJobsMessageKeepsItsReason() {
        String message = "not started: node node-1 cannot write /var/lib/buildhook/data/payloads (No space left"
                + " on device); back in the queue, its retries untouched, for a node that can write its files";
        String rule = "a-rule-whose-name-is-much-longer-than-sixty-characters-for-the-sake-of-it";
        StringWriter text = new StringWriter();
        new Table("RULE", "MESSAGE").row(rule, message).print(new PrintWriter(text));

        assertThat(text.toString()).contains(message + "\n").contains(rule.substring(0, 59) + "… ")
                .doesNotContain(rule);
    }

    /** escape29: the cut at 60 characters could leave half an escape (a backslash and u20) or half a surrogate pair. */
    @Test
    void aCutCellEndsWithAWholeEscapeOrNone() {
        String bidi = "a".repeat(56) + "\u202e" + "b".repeat(20);
        String emoji = "a".repeat(58) + "\ud83d\ude00" + "b".repeat(20);
        StringWriter text = new StringWriter();
        new Table("TRIGGER", "BUILD").row(bidi, "1").row(emoji, "2").print(new PrintWriter(text));

        assertThat(text.toString()).contains("a".repeat(56) + "… ").contains("a".repeat(58) + "… ")
                .doesNotContain("\\u2").doesNotContain("\ud83d");
        StringWriter fits = new StringWriter();
        new Table("TRIGGER", "BUILD").row("a".repeat(53) + "\u202e" + "b", "3").print(new PrintWriter(fits));
        assertThat(fits.toString()).contains("a".repeat(53) + "\\u202eb  3");
    }
}
