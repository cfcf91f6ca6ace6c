package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class StartFailureTest extends LauncherTest {

    private static JobRequest request(List<String> argv, Map<String, String> env, Path workdir) {
        return new JobRequest(Fixtures.jobId("failing"), 1, argv, env, workdir, null, Duration.ofMinutes(1));
    }

    @Test
    void reportsAMissingExecutable() throws Exception {
        JobOutcome outcome = run(request(List.of(dir.resolve("missing.sh").toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.exitCode()).isNull();
        assertThat(outcome.message()).isEqualTo("executable not found: " + dir.resolve("missing.sh"));
        assertThat(Files.readString(outcome.logFile()))
                .isEqualTo("[buildhook] failed to start: executable not found: " + dir.resolve("missing.sh") + "\n");
    }

    @Test
    void reportsAProgramThatIsOnNoDirectoryOfThePath() throws Exception {
        JobOutcome outcome = run(request(List.of("no-such-tool"), Map.of("PATH", "/nonexistent:" + dir), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message())
                .isEqualTo("executable not found: no-such-tool is on no directory of PATH=/nonexistent:" + dir);
    }

    /**
     * Linux takes at most 128 KiB per argument and per environment string (MAX_ARG_STRLEN): a value
     * of 65000 three-byte characters (195000 bytes, within the event parser's 65536 characters) was
     * refused by the kernel as "error=7, Argument list too long", which says neither which value nor
     * what to do.
     */
    @Test
    void namesAnArgumentOrVariableLongerThanLinuxTakesAndWhatToDo() throws Exception {
        String runName = "\u69cb".repeat(65000);

        JobOutcome argument = run(request(List.of("/bin/echo", "short", runName), Map.of(), null));
        JobOutcome variable = run(request(List.of("/bin/echo"), Map.of("BUILDHOOK_RUN_NAME", runName), null));

        assertThat(argument.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(argument.message()).startsWith("argument 2 is 195000 bytes long, more than the 131072 bytes Linux"
                + " passes in one argument or environment variable").contains("BUILDHOOK_PAYLOAD")
                .doesNotContain("error=7");
        assertThat(variable.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(variable.message()).startsWith("environment variable BUILDHOOK_RUN_NAME is 195019 bytes long, more than"
                + " the 131072 bytes");
        assertThat(run(request(List.of("/bin/echo", "x".repeat(131_000)), Map.of(), null)).result())
                .isEqualTo(JobOutcome.Result.SUCCEEDED);
    }

    @Test
    void reportsAFileThatIsNotExecutable() throws Exception {
        Path script = fixtures.script("plain.sh", "exit 0");
        Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).startsWith("permission denied: " + script + " is not executable (chmod +x it");
    }

    @Test
    void namesTheWindowsLineEndOfAScriptsInterpreterLine() throws Exception {
        Path script = dir.resolve("crlf.sh");
        Files.writeString(script, "#!/bin/sh\r\necho hello\r\n");
        Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).startsWith("the #! line of " + script + " ends with a carriage return")
                .contains("CRLF").contains("dos2unix");
        assertThat(Files.readString(outcome.logFile())).contains("carriage return");
    }

    @Test
    void namesTheWindowsLineEndOfAScriptFoundOnThePath() throws Exception {
        Path script = dir.resolve("crlf-on-path.sh");
        Files.writeString(script, "#!/bin/sh\r\necho hello\r\n");
        Files.setPosixFilePermissions(script, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));

        JobOutcome outcome = run(request(List.of("crlf-on-path.sh"), Map.of("PATH", "/nonexistent:" + dir), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).startsWith("the #! line of " + script + " ends with a carriage return");
    }

    @Test
    void reportsADirectoryGivenAsTheProgram() throws Exception {
        JobOutcome outcome = run(request(List.of(dir.toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("executable is not a regular file: " + dir);
    }

    @Test
    void reportsAMissingWorkingDirectory() throws Exception {
        Path script = fixtures.script("ok.sh", "exit 0");

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), dir.resolve("gone")));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("working directory does not exist: " + dir.resolve("gone"));
    }

    @Test
    void reportsAWorkingDirectoryThatIsAFile() throws Exception {
        Path script = fixtures.script("ok.sh", "exit 0");

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), script));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("working directory is not a directory: " + script);
    }

    @Test
    void reportsAnEmptyCommand() throws Exception {
        JobOutcome outcome = run(request(List.of(), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).startsWith("empty command");
    }

    @Test
    void refusesAnArgumentWithANulByte() throws Exception {
        Path script = fixtures.script("ok.sh", "exit 0");

        JobOutcome outcome = run(request(List.of(script.toString(), "a\0b"), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("argument 1 contains a NUL byte, which a process argument cannot hold");
    }

    @Test
    void refusesNewJobsOnceClosed() throws Exception {
        Path script = fixtures.script("ok.sh", "exit 0");
        launcher.close();

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("the launcher is shut down");
    }

    @Test
    void namesAScriptWhoseInterpreterIsMissingThroughSetsid() throws Exception {
        Path script = fixtures.script("bad.sh", "exit 0");
        Files.writeString(script, "#!/nonexistent/interpreter\nexit 0\n");

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("the interpreter /nonexistent/interpreter named on the #! line of "
                + script + " does not exist or is not executable on this machine");
    }

    @Test
    void namesAScriptWhoseInterpreterIsMissingWithoutSetsid() throws Exception {
        launcher.close();
        launcher = fixtures.launcher(fixtures.config().withNewSession(false));
        Path script = fixtures.script("bad.sh", "exit 0");
        Files.writeString(script, "#!/nonexistent/interpreter\nexit 0\n");

        JobOutcome outcome = run(request(List.of(script.toString()), Map.of(), null));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).startsWith("the interpreter /nonexistent/interpreter named on the #! line of");
        assertThat(Files.readString(outcome.logFile())).startsWith("[buildhook] failed to start: the interpreter ");
    }
}
