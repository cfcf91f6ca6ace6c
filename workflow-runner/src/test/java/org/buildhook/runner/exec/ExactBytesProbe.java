package org.buildhook.runner.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Run in a child JVM by {@link ExactBytesTest}, under the locale the test gives it: launches one job
 * writing its argument, its variable and its working directory as raw bytes into a file, and prints
 * the outcome ({@code RESULT message}) on stdout.
 *
 * <p>Argument: the folder to work in (ASCII). In it, {@code value} holds the value to pass everywhere
 * and {@code workdir}, if present, the name of the job's working directory (else {@code in}), both
 * UTF-8: the child's own argv could not carry them under every locale.
 */
public final class ExactBytesProbe {

    private ExactBytesProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        String value = Files.readString(dir.resolve("value"), java.nio.charset.StandardCharsets.UTF_8);
        String workdir = Files.exists(dir.resolve("workdir"))
                ? Files.readString(dir.resolve("workdir"), java.nio.charset.StandardCharsets.UTF_8) : "in";
        LauncherConfig config = LauncherConfig.defaults(dir.resolve("logs")).withDefaultWorkdir(dir)
                .withBaseEnvironment(Map.of("PATH", "/usr/bin:/bin"));
        try (CommonsExecLauncher launcher = CommonsExecLauncher.create(config)) {
            JobRequest request = new JobRequest(Fixtures.jobId("probe"), 1,
                    List.of("/bin/sh", "-c", "printf '%s|%s|%s' \"$1\" \"$VALUE\" \"$(pwd)\" > \"$2\"", "sh", value,
                            dir.resolve("out").toString()),
                    Map.of("VALUE", value), dir.resolve(workdir), null, Duration.ofMinutes(1));
            JobOutcome outcome = launcher.start(request).outcome().get(60, TimeUnit.SECONDS);
            System.out.println(outcome.result() + " " + outcome.message());
        }
    }
}
