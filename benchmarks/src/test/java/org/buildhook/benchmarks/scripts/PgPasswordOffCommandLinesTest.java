package org.buildhook.benchmarks.scripts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmark scripts keep the PostgreSQL password of {@code BUILDHOOK_BENCH_PG_URL} off every command line
 * (ps shows a process's arguments to every user): psql and the scripts' python get it in their environment
 * (review31 L5).
 */
class PgPasswordOffCommandLinesTest {

    private static final Path SCRIPTS = Path.of("scripts").toAbsolutePath();
    private static final Pattern PSQL_CALL = Pattern.compile("(?<![\\w-])psql\\s");

    @Test
    void benchPsqlHandsThePasswordToPsqlInItsEnvironmentAndToNoCommandLine(@TempDir Path dir) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path argv = dir.resolve("argv");
        // every psql and python3 the helpers start writes its arguments down first
        script(bin.resolve("psql"), "printf '%s\\n' \"psql $*\" >> " + argv + "\nprintf '%s' \"$PGPASSWORD\" > "
                + dir.resolve("pgpassword") + "\n");
        script(bin.resolve("python3"), "printf '%s\\n' \"python3 $*\" >> " + argv + "\nexec /usr/bin/python3 \"$@\"\n");
        String password = "s3cr:et@x y&z";
        String url = "jdbc:postgresql://127.0.0.1:5432/buildhook_test?user=buildhook&password="
                + "s3cr%3Aet%40x%20y%26z";

        Result r = bash(dir, bin, url, "bench_pg && bench_psql -q -c 'SELECT 1'");

        assertThat(r.exit).as(r.output).isZero();
        String calls = Files.readString(argv);
        assertThat(calls).contains("psql postgresql://buildhook@127.0.0.1:5432/buildhook_test -q -c SELECT 1")
                .doesNotContain("s3cr").doesNotContain("%3Aet");
        assertThat(Files.readString(dir.resolve("pgpassword"))).isEqualTo(password);
    }

    @Test
    void benchPsqlConnectsToTheRealDatabase(@TempDir Path dir) throws Exception {
        String url = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (url == null || url.isBlank()) {
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL must be set on CI").isNotEqualToIgnoringCase("true");
            assumeTrue(false, "BUILDHOOK_TEST_PG_URL not set");
        }
        Result r = bash(dir, null, url, "bench_pg && bench_psql -qAtX -c 'SELECT 40 + 2'");

        assertThat(r.exit).as(r.output).isZero();
        assertThat(r.output.strip()).isEqualTo("42");
    }

    @Test
    void everyScriptCallsPsqlThroughBenchPsql() throws IOException {
        List<String> direct = new ArrayList<>();
        try (Stream<Path> files = Files.list(SCRIPTS)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".sh")).sorted().toList()) {
                List<String> lines = Files.readAllLines(f);
                for (int i = 0; i < lines.size(); i++) {
                    String code = lines.get(i).replaceFirst("^\\s*#.*", "").replaceFirst("\\s#\\s.*$", "");
                    boolean theHelper = f.getFileName().toString().equals("common.sh")
                            && code.contains("PGPASSWORD=$bench_pg_password psql \"$bench_pg_libpq\"");
                    if (PSQL_CALL.matcher(code).find() && !theHelper) {
                        direct.add(f.getFileName() + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
                assertThat(String.join("\n", lines)).as(f.getFileName().toString())
                        .doesNotContain("q.get('password'");
            }
        }
        assertThat(direct).as("psql called with the connection on its command line").isEmpty();
    }

    private record Result(int exit, String output) {}

    private static Result bash(Path dir, Path bin, String url, String code) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("bash", "-c", "set -euo pipefail; source \"$1\"; " + code, "test",
                SCRIPTS.resolve("common.sh").toString());
        pb.environment().put("BUILDHOOK_BENCH_PG_URL", url);
        pb.environment().remove("PGPASSWORD");
        if (bin != null) {
            pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        }
        pb.directory(dir.toFile()).redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    private static void script(Path file, String body) throws IOException {
        Files.writeString(file, "#!/bin/bash\n" + body);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwx------"));
    }
}
