import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.*;
import org.buildhook.runner.store.Redaction;

/**
 * Thread CPU per {@code Redaction.hiddenIn} of jobs-ab.sh's job (its argv and env as a run stores them, a new build id
 * each call), as a job start pays it: docs/BENCHMARKS.md, "Thirty-sixth pass (cpu47)". Not built by Maven:
 *   javac -d /tmp/mb-X -cp INSTALL-X/lib/workflow-runner-0.1.0-SNAPSHOT.jar benchmarks/experiments/MaskBench.java
 *   java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "/tmp/mb-X:$(ls INSTALL-X/lib/*.jar | tr '\n' :)" MaskBench 12 20000
 * Prints the median (and least) µs per call over the rounds, the first two dropped.
 */
public class MaskBench {
    public static void main(String[] a) {
        int rounds = Integer.parseInt(a[0]), calls = Integer.parseInt(a[1]);
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        long sink = 0;
        double[] us = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = mx.getCurrentThreadCpuTime();
            for (int i = 0; i < calls; i++) {
                String id = Integer.toString(1_000_000 + r * calls + i);
                List<String> argv = List.of("/tmp/jobs-ab.TR2pSL/trace.sh", "/tmp/jobs-ab.TR2pSL/traces/base1", id);
                Map<String, String> env = new LinkedHashMap<>();
                env.put("BUILDHOOK_PROJECT", "andy-corp/lmp");
                env.put("BUILDHOOK_FACTORY", "andy-corp");
                env.put("BUILDHOOK_BUILD_ID", id);
                env.put("BUILDHOOK_BUILD_URL", "https://api.foundries.io/projects/andy-corp/lmp/builds/" + id + "/");
                env.put("BUILDHOOK_WEB_URL", "https://ci.foundries.io/projects/andy-corp/lmp/builds/" + id);
                env.put("BUILDHOOK_ENDPOINT", "default");
                env.put("BUILDHOOK_STATUS", "PASSED");
                env.put("BUILDHOOK_TRIGGER", "containers-devel");
                env.put("BUILDHOOK_RULE", "bench-trace");
                sink += Redaction.hiddenIn(argv, Map.copyOf(env)).size();
            }
            us[r] = (mx.getCurrentThreadCpuTime() - t0) / 1000.0 / calls;
        }
        double[] kept = Arrays.copyOfRange(us, 2, rounds);
        Arrays.sort(kept);
        System.out.printf("median_us=%.2f min_us=%.2f sink=%d%n", kept[kept.length / 2], kept[0], sink);
    }
}
