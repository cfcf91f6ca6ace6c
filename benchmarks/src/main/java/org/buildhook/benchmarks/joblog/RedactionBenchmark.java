package org.buildhook.benchmarks.joblog;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.store.Redaction;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What buildhook hides of a job, worked out on every job start before the spawn ({@link Redaction#hiddenIn}: the
 * values its log masks) and for every job a list or the status page shows ({@link Redaction#redactArgv} and
 * {@link Redaction#redact}), for the variables a JobServ build gives a job (its build's and run's URLs among them)
 * and a command that is either a script with the build's number or a {@code sh -c} that sends a header read from a
 * secret variable.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'org.buildhook.benchmarks.joblog.RedactionBenchmark' -f 1 -wi 3 -i 5 -w 1s -r 1s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RedactionBenchmark {

    /** The command: {@code script} ({@code deploy.sh 68 build-release}) or {@code shell} (a curl with a header). */
    @Param({"script", "shell"})
    String command;

    private List<String> argv;
    private Map<String, String> env;

    @Setup
    public void setUp() {
        env = new LinkedHashMap<>();
        env.put("BUILDHOOK_BUILD_ID", "68");
        env.put("BUILDHOOK_STATUS", "PASSED");
        env.put("BUILDHOOK_PROJECT", "lmp");
        env.put("BUILDHOOK_FACTORY", "andy-corp");
        env.put("BUILDHOOK_TRIGGER", "build-release");
        env.put("BUILDHOOK_BUILD_URL", "https://api.foundries.io/projects/andy-corp/lmp/builds/68/");
        env.put("BUILDHOOK_WEB_URL", "https://app.foundries.io/factories/andy-corp/targets/68/");
        env.put("BUILDHOOK_RUN_NAME", "raspberrypi4-64");
        env.put("BUILDHOOK_RUN_STATUS", "PASSED");
        env.put("BUILDHOOK_RUN_URL", "https://api.foundries.io/projects/andy-corp/lmp/builds/68/runs/raspberrypi4-64/");
        env.put("BUILDHOOK_RUN_LOG_URL",
                "https://api.foundries.io/projects/andy-corp/lmp/builds/68/runs/raspberrypi4-64/console.log");
        env.put("TARGET", "staging");
        if (command.equals("script")) {
            argv = List.of("/opt/scripts/deploy.sh", "68", "build-release");
        } else {
            env.put("API_TOKEN", "ghp_R4nd0mT0k3nV4lu3xyz");
            argv = List.of("/bin/sh", "-c", "curl -sf -H \"Authorization: Bearer $API_TOKEN\" "
                    + "https://deploy.example.com/hook && ./deploy.sh \"$BUILDHOOK_BUILD_ID\"");
        }
    }

    /** A job start's look for the values its log masks. */
    @Benchmark
    public Set<String> hiddenIn() {
        return Redaction.hiddenIn(argv, env);
    }

    /** A job as a list shows it: its command and its variables. */
    @Benchmark
    public int shown() {
        return Redaction.redactArgv(argv, env).size() + Redaction.redact(env).size();
    }
}
