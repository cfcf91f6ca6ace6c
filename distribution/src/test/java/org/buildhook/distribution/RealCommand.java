package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine;

/**
 * {@code buildhook ARGS} against a test's {@link AdminServer} as a real process of its own (as {@code bin/buildhook}
 * runs it, in a UTF-8 locale), on a pseudo-terminal from util-linux's {@code script} or to a file; and the job those
 * tests show: one that prints what a rule's {@code printf} format and a signed payload's trigger hold.
 */
final class RealCommand {

    private RealCommand() {
    }

    /** The command line of {@code buildhook ARGS} against {@code server}, with the admin token in {@code dir}. */
    static List<String> command(AdminServer server, Path dir, String... args) {
        List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Dfile.encoding=UTF-8", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        command.addAll(List.of("--url", server.uri().toString(), "--token-file",
                dir.resolve("admin-token").toString()));
        return command;
    }

    /**
     * What {@code buildhook ARGS} writes to a pseudo-terminal ({@code script -qec COMMAND /dev/null}), read as
     * UTF-8; the command must exit 0. The pseudo-terminal turns each newline into CR LF.
     */
    static String inATerminal(AdminServer server, Path dir, String... args) throws Exception {
        Process script = new ProcessBuilder("script", "-qec", shellLine(server, dir, args), "/dev/null")
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                .redirectError(dir.resolve("script.err").toFile()).start();
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        script.getInputStream().transferTo(shown);
        assertThat(script.waitFor(5, TimeUnit.MINUTES)).isTrue();
        String text = shown.toString(StandardCharsets.UTF_8);
        assertThat(script.exitValue()).as(text + Files.readString(dir.resolve("script.err"))).isZero();
        return text;
    }

    /** {@link #command} as one line for {@code sh -c}, each word between single quotes. */
    private static String shellLine(AdminServer server, Path dir, String... args) {
        StringBuilder line = new StringBuilder();
        for (String word : command(server, dir, args)) {
            line.append(line.length() == 0 ? "" : " ").append('\'').append(word.replace("'", "'\\''")).append('\'');
        }
        return line.toString();
    }

    /** What a run on a pseudo-terminal ({@link #typedInATerminal}) showed, and how it exited. */
    record Typed(int exit, String text) {
    }

    /**
     * {@code buildhook ARGS} against {@code server} on a pseudo-terminal ({@code script -qec COMMAND /dev/null}),
     * typing {@code typed} into it once it asks ({@code [y/N]}); nothing typed when empty. Its text has each CR LF
     * read as a newline, then what {@code script} wrote on its standard error.
     */
    static Typed typedInATerminal(AdminServer server, Path dir, String typed, String... args) throws Exception {
        Process script = new ProcessBuilder("script", "-qec", shellLine(server, dir, args), "/dev/null")
                .redirectError(dir.resolve("script.err").toFile()).start();
        ByteArrayOutputStream shown = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try {
                script.getInputStream().transferTo(shown);
            } catch (java.io.IOException e) {
                // the process ended
            }
        });
        reader.start();
        java.io.OutputStream keys = script.getOutputStream();
        if (!typed.isEmpty()) {
            // Typed once the question is on the screen, as a person does.
            await().atMost(Duration.ofSeconds(120))
                    .until(() -> shown.toString(StandardCharsets.UTF_8).contains("[y/N]"));
            keys.write(typed.getBytes(StandardCharsets.UTF_8));
            keys.flush();
        }
        assertThat(script.waitFor(5, TimeUnit.MINUTES)).isTrue();
        keys.close();
        reader.join(60_000);
        return new Typed(script.exitValue(), shown.toString(StandardCharsets.UTF_8).replace("\r\n", "\n")
                + Files.readString(dir.resolve("script.err")));
    }

    /** The bytes {@code buildhook ARGS} writes to a file (its standard output); the command must exit 0. */
    static byte[] toAFile(AdminServer server, Path dir, String... args) throws Exception {
        Path file = dir.resolve("saved.out");
        Process command = new ProcessBuilder(command(server, dir, args)).redirectOutput(file.toFile())
                .redirectError(dir.resolve("command.err").toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        assertThat(command.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(command.exitValue()).as(Files.readString(dir.resolve("command.err"))).isZero();
        return Files.readAllBytes(file);
    }

    /**
     * Makes the rules of {@code server} one rule {@code rule} running {@code /usr/bin/printf FORMAT TRIGGER} (with
     * {@code TRIGGER} in its environment too), delivers build 67 with the trigger {@code triggerJson} (as JSON writes
     * it in the body) and waits for the job to succeed.
     *
     * @return the job's id
     */
    static String printingJob(AdminServer server, String rule, String format, String triggerJson) throws Exception {
        server.replaceRules("rules:\n  - name: " + rule + "\n    run:\n      command: [/usr/bin/printf, '" + format
                + "', '${build.trigger}']\n      env: {TRIGGER: '${build.trigger}'}\n"
                + "      payload-values: as-sent\n"); // the values as sent: what is shown of them is the subject
        await().atMost(Duration.ofMinutes(5)).until(() -> server.app().rules().current().ruleNames().contains(rule));
        String body = AdminServer.fixture("build-67-passed.json")
                .replace("\"trigger_name\": \"containers-devel\"", "\"trigger_name\": \"" + triggerJson + "\"");
        String delivery = server.deliverBody(body.getBytes(StandardCharsets.UTF_8));
        AtomicReference<JsonNode> found = new AtomicReference<>();
        await().atMost(Duration.ofMinutes(5)).until(() -> {
            found.set(server.getJson("deliveries/" + delivery).path("jobs").path(0));
            return found.get().path("state").asText().equals("SUCCEEDED");
        });
        return found.get().path("id").asText();
    }

    /** What {@code buildhook job show JOB --json} prints, run in this JVM; it must exit 0. */
    static String jobShowJson(AdminServer server, Path dir, String job) {
        StringWriter out = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        int exit = cl.execute("job", "show", job, "--json", "--url", server.uri().toString(), "--token-file",
                dir.resolve("admin-token").toString());
        assertThat(exit).as(out.toString()).isZero();
        return out.toString();
    }
}
