package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.buildhook.core.LogSafe;
import org.junit.jupiter.api.Test;

/**
 * tryout50 F3's kind: the warnings of an action's answer (a re-run of a job that has not ended, SameRuleJobsWarning)
 * name a payload value as the server escaped it; the command escaped them again, doubling the escape's backslash.
 */
class AdminActionWarningsTest {

    @Test
    void aWarningShowsTheServersEscapesOnceAndNothingRaw() {
        String run = LogSafe.escape("build-armhf\nevil\u202e");
        ObjectNode answer = new ObjectMapper().createObjectNode();
        answer.putArray("warnings").add("job 01J of rule 'each' and its run '" + run + "' has not ended")
                .add("raw \u001b[2J");
        StringWriter err = new StringWriter();

        AdminActionCommand.warnings(answer, List.of(), new PrintWriter(err, true));

        assertThat(err.toString()).isEqualTo("[buildhook] warning: job 01J of rule 'each' and its run"
                + " 'build-armhf\\x0aevil\\u202e' has not ended\n[buildhook] warning: raw \\x1b[2J\n");
    }
}
