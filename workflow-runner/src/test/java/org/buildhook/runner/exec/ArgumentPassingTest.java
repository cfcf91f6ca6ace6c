package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/** Every argv element reaches the program as exactly one unchanged argument, with or without setsid. */
class ArgumentPassingTest {

    private static final List<String> HOSTILE = List.of(
            "\"; rm -rf / #", "$(id)", "`id`", "--help", "line one\nline two", "../../x", "",
            "two words", "'single' \"double\"", "${build.id}", "back\\slash", "*", "a\tb", "ünïcødé ✓", " ");

    @TempDir
    Path dir;
    Fixtures fixtures;

    @BeforeEach
    void setUp() {
        fixtures = new Fixtures(dir);
    }

    @AfterEach
    void tearDown() {
        fixtures.close();
    }

    @ParameterizedTest(name = "new session: {0}")
    @ValueSource(booleans = {true, false})
    void passesEachArgumentAsExactlyOneUnchangedArgument(boolean newSession) throws Exception {
        Path written = dir.resolve("args.bin");
        Path script = fixtures.script("args.sh", "for a in \"$@\"; do printf '%s\\0' \"$a\"; done > '" + written + "'");
        List<String> argv = new ArrayList<>();
        argv.add(script.toString());
        argv.addAll(HOSTILE);

        JobOutcome outcome;
        try (CommonsExecLauncher launcher = fixtures.launcher(fixtures.config().withNewSession(newSession))) {
            outcome = launcher.start(Fixtures.request("args", argv)).outcome().get(60, TimeUnit.SECONDS);
        }

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (String argument : HOSTILE) {
            expected.writeBytes(argument.getBytes(StandardCharsets.UTF_8));
            expected.write(0);
        }
        assertThat(Files.readAllBytes(written)).isEqualTo(expected.toByteArray());
    }

    @ParameterizedTest(name = "new session: {0}")
    @ValueSource(booleans = {true, false})
    void runsAProgramWhosePathHoldsSpacesAndQuotes(boolean newSession) throws Exception {
        Path folder = Files.createDirectory(dir.resolve("a \"quoted\" folder"));
        Path script = fixtures.script(dir.relativize(folder).resolve("it's.sh").toString(), "echo ran \"$1\"");

        JobOutcome outcome;
        try (CommonsExecLauncher launcher = fixtures.launcher(fixtures.config().withNewSession(newSession))) {
            outcome = launcher.start(Fixtures.request("spaced", script, "x y")).outcome().get(60, TimeUnit.SECONDS);
        }

        assertThat(outcome.result()).isEqualTo(JobOutcome.Result.SUCCEEDED);
        assertThat(Files.readString(outcome.logFile())).isEqualTo("ran x y\n");
    }
}
