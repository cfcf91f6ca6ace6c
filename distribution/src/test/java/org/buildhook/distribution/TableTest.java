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
}
