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
}
