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

    /**
     * review28 R5's edge: whether a command was not started (stopped before its exec) was read from the end of the
     * outcome's message, so a start that failed on its own with words ending the same (a program or a working
     * directory whose name ends so, as a rule or a payload may give it) counted as a command not started, which the
     * engine puts back in the queue during a stop. It is a fact the attempt sets where it refuses the exec now.
     */
    @Test
    void aStartFailureWhoseWordsEndLikeACommandNotStartedIsNoneOfThose() throws Exception {
        Path program = dir.resolve("deploy" + JobOutcome.NOT_STARTED);
        Path workdir = dir.resolve("work" + JobOutcome.NOT_STARTED);

        JobOutcome missingProgram = run(request(List.of(program.toString()), Map.of(), null));
        JobOutcome missingWorkdir = run(request(List.of("/bin/true"), Map.of(), workdir));

        assertThat(List.of(missingProgram, missingWorkdir)).allSatisfy(outcome -> {
            assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
            assertThat(outcome.message()).endsWith(JobOutcome.NOT_STARTED);
            assertThat(outcome.commandNotStarted()).as("failed on its own: " + outcome.message()).isFalse();
        });
    }

    /**
     * A relative program (with a slash) is taken from the job's working directory, which for rules
     * without a workdir moved from the data folder to {@code <data-dir>/work} on 2026-12-01: the
     * refusal says where it looked and what to do, not only the path it made.
     */
    @Test
    void aMissingRelativeProgramSaysItIsTakenFromTheWorkingDirectoryAndWhatToDo() throws Exception {
        Path workdir = Files.createDirectories(dir.resolve("work"));
        Files.createDirectories(dir.resolve("scripts"));
        Files.writeString(dir.resolve("scripts/deploy.sh"), "#!/bin/sh\nexit 0\n");

        JobOutcome outcome = run(request(List.of("scripts/deploy.sh"), Map.of(), workdir));

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(outcome.message()).isEqualTo("executable not found: " + workdir.resolve("scripts/deploy.sh")
                + " (the relative program scripts/deploy.sh is taken from the job's working directory " + workdir
                + "; give its absolute path in the rule's command, or set the rule's workdir)");
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
        JobOutcome variable = run(request(List.of("/bin/echo"), Map.of("RUN_NAME", runName), null));

        assertThat(argument.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(argument.message()).startsWith("argument 2 is 195000 bytes long, more than the 131072 bytes Linux"
                + " passes in one argument or environment variable").contains("BUILDHOOK_PAYLOAD")
                .doesNotContain("error=7");
        assertThat(variable.result()).isEqualTo(JobOutcome.Result.FAILED_TO_START);
        assertThat(variable.message()).startsWith("environment variable RUN_NAME is 195009 bytes long, more than"
                + " the 131072 bytes");
        assertThat(run(request(List.of("/bin/echo", "x".repeat(131_000)), Map.of(), null)).result())
                .isEqualTo(JobOutcome.Result.SUCCEEDED);
    }

    /**
     * A variable of buildhook's own (BUILDHOOK_*: no rule can set one) that Linux would refuse is
     * left out, with a line in the job's log, instead of failing a job that may not use it at all
     * (tryout10 F2: an on-failure follow-up that pages someone inherited the run name and failed too).
     */
    @Test
    void leavesOutAVariableOfItsOwnThatLinuxWouldRefuseAndSaysSoInTheLog() throws Exception {
        Path env = dir.resolve("env.txt");
        JobOutcome outcome = run(request(List.of("/bin/sh", "-c", "env > " + env),
                Map.of("BUILDHOOK_RUN_NAME", "\u69cb".repeat(65000), "BUILDHOOK_RUN_STATUS", "PASSED"), null));

        assertThat(outcome.result()).as(outcome.message()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(Files.readAllLines(env)).contains("BUILDHOOK_RUN_STATUS=PASSED")
                .noneMatch(line -> line.startsWith("BUILDHOOK_RUN_NAME="))
                .anyMatch(line -> line.startsWith(AttemptMarker.VARIABLE + "="));
        assertThat(Files.readString(outcome.logFile())).isEqualTo("[buildhook] BUILDHOOK_RUN_NAME is left out of the"
                + " environment: it is 195019 bytes long, more than the 131072 bytes Linux passes in one environment"
                + " variable (MAX_ARG_STRLEN); the payload file (BUILDHOOK_PAYLOAD) has the whole value\n");
    }

    /**
     * Values each under MAX_ARG_STRLEN can still come to more than Linux passes to a program in all
     * (ARG_MAX: a quarter of the stack limit, 2 MiB with the usual 8 MiB), and the kernel refused
     * them with a bare "error=7, Argument list too long" (review11 F6). Buildhook's own variables
     * are left out, largest first, until the rest fits.
     */
    @Test
    void leavesOutItsOwnLargestVariablesUntilTheWholeFitsWhatLinuxPasses() throws Exception {
        Path env = dir.resolve("env.txt");
        int count = (int) (StartCheck.ARGUMENT_SPACE / 120_000) + 2;
        Map<String, String> variables = new java.util.HashMap<>();
        for (int i = 0; i < count; i++) {
            variables.put("BUILDHOOK_V" + i, "v".repeat(120_000 - i)); // BUILDHOOK_V0 is the largest
        }
        variables.put("BUILDHOOK_SMALL", "kept");
        // The payload file's path is never left out, however long (review12 L13): the notes point to it.
        variables.put("BUILDHOOK_PAYLOAD", "/" + "p".repeat(125_000));
        JobOutcome outcome = run(request(List.of("/bin/sh", "-c", "env > " + env), variables, null));

        assertThat(outcome.result()).as(outcome.message()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        List<String> seen = Files.readAllLines(env).stream().map(line -> line.split("=", 2)[0]).toList();
        assertThat(seen).contains("BUILDHOOK_SMALL", "BUILDHOOK_PAYLOAD", "BUILDHOOK_V" + (count - 1))
                .doesNotContain("BUILDHOOK_V0");
        List<String> notes = Files.readAllLines(outcome.logFile());
        assertThat(notes).isNotEmpty().allMatch(line -> line.startsWith("[buildhook] BUILDHOOK_V")
                && line.contains(" is left out of the environment: the command's arguments and environment come to"));
        assertThat(notes.size() + seen.stream().filter(name -> name.startsWith("BUILDHOOK_V")).count())
                .isEqualTo(count);
    }

    /** Arguments and variables the rule set that come to more than Linux passes are refused, named. */
    @Test
    void refusesArgumentsAndVariablesOfTheRuleThatComeToMoreThanLinuxPasses() throws Exception {
        StartCheck.Refused refused = org.assertj.core.api.Assertions.catchThrowableOfType(
                () -> StartCheck.check(List.of("/bin/echo", "a".repeat(100_000)), Map.of(),
                        Map.of("NOTES", "n".repeat(100_000), "BUILDHOOK_RUN_URL", "u".repeat(50_000)), dir,
                        ProcessEncoding.current(), 150_000),
                StartCheck.Refused.class);

        assertThat(refused).hasMessageStartingWith("the command's arguments and environment come to ")
                .hasMessageContaining("more than the 150000 bytes Linux passes to a program").hasMessageContaining(
                        "BUILDHOOK_PAYLOAD");
    }

    @Test
    void worksOutTheRoomForArgumentsAsLinuxDoes() throws Exception {
        assertThat(StartCheck.argumentSpace(8L << 20)).isEqualTo(2L << 20);
        assertThat(StartCheck.argumentSpace(Long.MAX_VALUE)).isEqualTo(6L << 20);
        assertThat(StartCheck.argumentSpace(64L << 10)).isEqualTo(128L << 10);
        Path limits = Files.writeString(dir.resolve("limits"), """
                Limit                     Soft Limit           Hard Limit           Units
                Max cpu time              unlimited            unlimited            seconds
                Max stack size            16777216             unlimited            bytes
                """);
        assertThat(StartCheck.stackLimit(limits)).isEqualTo(16L << 20);
        assertThat(StartCheck.stackLimit(dir.resolve("none"))).isEqualTo(8L << 20);
        assertThat(StartCheck.ARGUMENT_SPACE).isBetween(128L << 10, 6L << 20);
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
