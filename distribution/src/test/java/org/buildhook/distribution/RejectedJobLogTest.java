package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code buildhook logs} of a job someone rejected while it awaited an approval (tryout14 F10): it
 * said {@code job … has not started an attempt yet (404)}, as if it might still run. It now says
 * that the job was rejected, by whom and when, and that it never ran and has no log; exit 1 (the
 * answer is no), as for any log that does not exist. A real server process and the real commands.
 */
class RejectedJobLogTest {

    @TempDir
    Path dir;
    ServeProcesses processes;

    @AfterEach
    void killAll() throws InterruptedException {
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void logsOfARejectedJobSaysItWasRejectedByWhomAndWhenAndHasNoLog() throws Exception {
        Path config = ServeProcesses.followConfig(dir, "rules:\n  - name: deploy\n    approval: {}\n"
                + "    run: {command: [/bin/echo, deployed]}\n", "");
        processes = new ServeProcesses(dir);
        Process server = processes.serve(config, dir.resolve("serve.out"));
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        String job = ServeProcesses.sendSample(url, dir);

        assertThat(run(url, "reject", job).code).isEqualTo(ExitCodes.OK);
        JsonNode shown = new ObjectMapper().readTree(run(url, "job", "show", job, "--json").out);
        String rejectedAt = shown.path("job").path("endedAt").asText();
        String actor = shown.path("actions").path(0).path("actor").asText();
        assertThat(shown.path("job").path("state").asText()).isEqualTo("REJECTED");

        Run logs = run(url, "logs", job);
        assertThat(logs.code).as(logs.err).isEqualTo(ExitCodes.FAILED);
        assertThat(logs.out).isEmpty();
        assertThat(logs.err.strip()).isEqualTo("buildhook: job " + job + " was rejected by " + actor + " at "
                + rejectedAt + " before it ran: it has no log (404)");

        Run follow = run(url, "logs", "-f", job);
        assertThat(follow.code).isEqualTo(ExitCodes.FAILED);
        assertThat(follow.out).contains("[buildhook] job " + job + " REJECTED: rejected by " + actor)
                .doesNotContain("awaits an approval");
    }

    private record Run(int code, String out, String err) {
    }

    /** One {@code buildhook} command against the server, in this JVM, with its output and error. */
    private Run run(URI url, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        picocli.CommandLine command = BuildhookCommand.commandLine();
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", url.toString(), "--token-file", dir.resolve("admin-token").toString()));
        int code = command.execute(all.toArray(String[]::new));
        return new Run(code, out.toString(), err.toString());
    }
}
