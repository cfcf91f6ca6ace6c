package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values reach a job as their exact UTF-8 bytes, or the job does not start: never with {@code ?}
 * in place of characters. The JVM's encoding comes from the locale it was started under, so the
 * real cases run in a child JVM started with no {@code LANG}/{@code LC_*} at all ({@code env -i}).
 */
class ExactBytesTest {

    /** Accents, CJK and an emoji (outside the BMP: a surrogate pair in Java, 4 bytes in UTF-8). */
    static final String VALUE = "tëst zürich/lmp grüße 構建 🚀";

    @TempDir
    Path dir;

    @Test
    void aJobWhoseValuesCannotBePassedExactlyIsRefusedNamingWhatAndTheFix() {
        ProcessEncoding ascii = new ProcessEncoding(StandardCharsets.US_ASCII, StandardCharsets.US_ASCII);
        Map<String, String> base = Map.of("PATH", "/usr/bin:/bin");

        assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo", "plain", VALUE), base, Map.of(), dir, ascii))
                .hasMessageStartingWith("argument 2 cannot be passed exactly: it holds non-ASCII characters and this"
                        + " JVM encodes arguments as US-ASCII")
                .hasMessageContaining("LC_ALL=C.UTF-8");
        assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of("GREETING", "grüße"), dir, ascii))
                .hasMessageStartingWith("environment variable GREETING cannot be passed exactly")
                .hasMessageNotContaining("grüße");
    }

    /** A JSON "\\ud800" escape gives a string with no UTF-8 encoding: refused under every encoding, never '?'. */
    @Test
    void aValueWithAnUnpairedSurrogateIsRefusedEvenUnderUtf8() throws Exception {
        ProcessEncoding utf8 = new ProcessEncoding(StandardCharsets.UTF_8, StandardCharsets.UTF_8);
        Map<String, String> base = Map.of("PATH", "/usr/bin:/bin");

        assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo", "x\ud800y"), base, Map.of(), dir, utf8))
                .hasMessageStartingWith("argument 1 cannot be passed exactly: it holds an unpaired surrogate");
        assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of("TRIGGER", "\udc00"), dir, utf8))
                .hasMessageStartingWith("environment variable TRIGGER cannot be passed exactly: it holds an unpaired");
        assertThat(StartCheck.check(List.of("/bin/echo", VALUE), base, Map.of("V", VALUE), dir, utf8).executable())
                .as("a surrogate pair (the emoji) is fine").isEqualTo(Path.of("/bin/echo"));
    }

    @Test
    void aJvmThatCannotPassUtf8SaysSoWithTheFixAndOneThatCanSaysNothing() {
        assertThat(new ProcessEncoding(StandardCharsets.US_ASCII, StandardCharsets.US_ASCII).warning()).hasValueSatisfying(
                w -> assertThat(w).contains("as US-ASCII", "fails to start instead of receiving '?'", "LC_ALL=C.UTF-8",
                        "bin/setenv.sh"));
        assertThat(new ProcessEncoding(StandardCharsets.UTF_8, StandardCharsets.US_ASCII).warning()).isPresent();
        assertThat(new ProcessEncoding(StandardCharsets.UTF_8, StandardCharsets.UTF_8).warning()).isEmpty();
    }

    @Test
    void plainAsciiValuesStartUnderAnyEncoding() throws Exception {
        ProcessEncoding ascii = new ProcessEncoding(StandardCharsets.US_ASCII, StandardCharsets.US_ASCII);

        assertThat(StartCheck.check(List.of("/bin/echo", "build 67"), Map.of("PATH", "/usr/bin"), Map.of("A", "b"),
                dir, ascii).executable()).isEqualTo(Path.of("/bin/echo"));
    }

    @Test
    void underNoLocaleAtAllAJobWithNonAsciiValuesFailsToStartInsteadOfReceivingQuestionMarks() throws Exception {
        Files.createDirectories(dir.resolve("in"));
        String answer = probe(List.of(), VALUE);

        assertThat(answer).startsWith("FAILED_TO_START argument 4 cannot be passed exactly")
                .contains("LC_ALL=C.UTF-8");
        assertThat(dir.resolve("out")).doesNotExist();
    }

    @Test
    void underAUtf8LocaleEveryValueArrivesAsItsExactUtf8Bytes() throws Exception {
        Files.createDirectories(dir.resolve("in"));
        String answer = probe(List.of("LC_ALL=C.UTF-8"), VALUE);

        assertThat(answer).startsWith("SUCCEEDED");
        assertThat(Files.readAllBytes(dir.resolve("out"))).isEqualTo((VALUE + "|" + VALUE + "|" + dir.resolve("in"))
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void underAUtf8LocaleANonAsciiWorkingDirectoryIsUsedAsIs() throws Exception {
        Path accented = Files.createDirectories(dir.resolve("dépôt 構建"));
        Files.writeString(dir.resolve("workdir"), "dépôt 構建", StandardCharsets.UTF_8);

        String answer = probe(List.of("LC_ALL=C.UTF-8"), "plain");

        assertThat(answer).startsWith("SUCCEEDED");
        assertThat(Files.readAllBytes(dir.resolve("out")))
                .isEqualTo(("plain|plain|" + accented).getBytes(StandardCharsets.UTF_8));
    }

    /** Runs {@link ExactBytesProbe} in a JVM whose environment is only PATH and {@code locale}. */
    private String probe(List<String> locale, String value) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("/usr/bin/env", "-i", "PATH=/usr/bin:/bin"));
        command.addAll(locale);
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path")));
        // The launch this test run is about: posix_spawn, or the setsid one it was asked to test.
        command.add("-D" + NativeSpawn.PROPERTY + "=" + System.getProperty(NativeSpawn.PROPERTY, "native"));
        command.add(ExactBytesProbe.class.getName());
        command.add(dir.toString());
        Files.write(dir.resolve("value"), value.getBytes(StandardCharsets.UTF_8));
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(out).isZero();
        return out.lines().filter(l -> l.matches("^[A-Z_]+ .*")).reduce((a, b) -> b).orElse(out);
    }
}
