package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/**
 * tryout39 F7: the approve answer's warnings (a job whose rule is not in force) were printed twice, on standard error
 * by what every admin action does with its answer's warnings and on standard output by approve's own description.
 * The description now says only what was done; the warning stays on standard error (AdminCommandsTest drives the
 * real command against a real server for the rest of approve).
 */
class ApproveWarningOnceTest {

    @Test
    void approvesDescriptionLeavesTheAnswersWarningsToStandardError() throws Exception {
        ApproveCommand approve = new ApproveCommand();
        approve.id = "01JD8Q4B2C7N1E5V9W0X3Y6Z8K";
        StringWriter out = new StringWriter();

        approve.describe(new ObjectMapper().readTree("{\"id\":\"01JD8Q4B2C7N1E5V9W0X3Y6Z8K\",\"state\":\"QUEUED\","
                + "\"warnings\":[\"its rule 'deploy' is not in the rules in force on node n1\"]}"),
                new PrintWriter(out, true));

        assertThat(out.toString()).isEqualTo("approved job 01JD8Q4B2C7N1E5V9W0X3Y6Z8K; it is queued\n");
    }
}
