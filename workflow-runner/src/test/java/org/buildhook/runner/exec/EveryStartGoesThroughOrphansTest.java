package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * orphans30 (contain30's L3): while the server is a child subreaper ({@link Orphans}), every process it starts must
 * be started through {@link Orphans#spawn}: a child of the JVM started any other way after a job started is taken
 * for that job's orphan and ended with it, its zombie may be reaped before the JDK's thread waiting for it (which
 * then reads exit status 0), and while it is being started it holds copies of the JVM's descriptors (a job's pipe among them)
 * unseen. This test reads the main code of the server's modules and fails when a process is started anywhere else
 * than the places that {@link Orphans#spawn} wraps.
 */
class EveryStartGoesThroughOrphansTest {

    /** What starts a process in Java code: the JDK's, commons-exec's and libc's ways. */
    private static final Pattern STARTS_A_PROCESS = Pattern.compile("\\bProcessBuilder\\b|\\bRuntime\\b.*\\.exec\\("
            + "|\\.exec\\(|\\bposix_spawnp?\\(|\\bv?fork\\(|\\bexecv[pe]*\\(|\\bsystem\\(|\\bpopen\\("
            + "|new\\s+(DefaultExecutor|DaemonExecutor)\\b|DefaultExecutor\\.builder\\(");

    /**
     * The files allowed to start a process, each with what shows that the start goes through {@link Orphans#spawn}:
     * jobs (both launch modes: the ProcessBuilder on the argv or setsid, and {@link NativeSpawn}, which only
     * {@link ExactArgvExecutor}'s spawn calls) and the watchdog; {@link LibC} declares posix_spawn.
     */
    private static final Map<String, String> ALLOWED = Map.of(
            "workflow-runner/src/main/java/org/buildhook/runner/exec/ExactArgvExecutor.java",
            "Orphans.spawn(owner, () -> spawnInCgroup(environment))",
            "workflow-runner/src/main/java/org/buildhook/runner/exec/Watchdog.java",
            "Orphans.spawn(null, () -> starter.start(builder))",
            "workflow-runner/src/main/java/org/buildhook/runner/exec/AttemptCgroups.java",
            "child = Orphans.spawn(null, () -> new ProcessBuilder(\"sleep\", \"60\")",
            "workflow-runner/src/main/java/org/buildhook/runner/exec/NativeSpawn.java",
            "static Process start(",
            "workflow-runner/src/main/java/org/buildhook/runner/exec/LibC.java",
            "static native int posix_spawn(");

    /** The modules whose main code runs in the server (benchmarks do not). */
    private static final List<String> SERVER_MODULES = List.of("webhook-core", "workflow-runner", "webhook-servlet",
            "distribution");

    @Test
    void noMainCodeStartsAProcessOutsideOrphansSpawn() throws IOException {
        Path root = root();
        List<String> found = new ArrayList<>();
        for (String module : SERVER_MODULES) {
            try (Stream<Path> files = Files.walk(root.resolve(module).resolve("src/main/java"))) {
                files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> {
                    String name = root.relativize(f).toString();
                    List<String> lines = read(f);
                    for (int i = 0; i < lines.size(); i++) {
                        String code = code(lines.get(i));
                        if (STARTS_A_PROCESS.matcher(code).find() && !ALLOWED.containsKey(name)) {
                            found.add(name + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                });
            }
        }
        assertThat(found).as("start it through Orphans.spawn (and add the file to ALLOWED here): while the server"
                + " is a child subreaper, a child it starts otherwise is taken for a job's orphan and ended"
                + " (docs/development.md)").isEmpty();
    }

    @Test
    void theAllowedStartsAreTheOnesOrphansSpawnWraps() throws IOException {
        Path root = root();
        for (Map.Entry<String, String> allowed : ALLOWED.entrySet()) {
            assertThat(Files.readString(root.resolve(allowed.getKey()))).as(allowed.getKey()).contains(allowed.getValue());
        }
        // NativeSpawn.start and the argv's ProcessBuilder are called by ExactArgvExecutor's spawn only.
        List<String> nativeStarts = new ArrayList<>();
        for (String module : SERVER_MODULES) {
            try (Stream<Path> files = Files.walk(root.resolve(module).resolve("src/main/java"))) {
                files.filter(f -> f.toString().endsWith(".java")).sorted().forEach(f -> {
                    List<String> lines = read(f);
                    for (int i = 0; i < lines.size(); i++) {
                        if (code(lines.get(i)).contains("NativeSpawn.start(")) {
                            nativeStarts.add(root.relativize(f) + ":" + (i + 1));
                        }
                    }
                });
            }
        }
        assertThat(nativeStarts).singleElement().asString()
                .startsWith("workflow-runner/src/main/java/org/buildhook/runner/exec/ExactArgvExecutor.java:");
    }

    /** A line without its comment: Javadoc and comment lines are empty, and what follows {@code //}. */
    private static String code(String line) {
        String stripped = line.strip();
        if (stripped.startsWith("*") || stripped.startsWith("/*") || stripped.startsWith("//")) {
            return "";
        }
        int comment = stripped.indexOf("// ");
        return comment < 0 ? stripped : stripped.substring(0, comment);
    }

    private static Path root() {
        return Path.of(System.getProperty("buildhook.fixtures", "../fixtures")).toAbsolutePath().getParent();
    }

    private static List<String> read(Path file) {
        try {
            return Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
