package org.buildhook.benchmarks.rules;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildStatus;
import org.buildhook.core.Run;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Matching the seed event (build 67 of andy-corp/lmp, 4 runs) against 1, 100 and 10,000 rules, each
 * with a project pattern, trigger, status and a runs matcher. Exactly one rule fires (rule 0, for
 * andy-corp), so the figures show how matching scales, not how many jobs are rendered. The HMAC of a
 * body of the seed's size is measured alongside, as the cost matching must stay well below.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RuleMatchingBenchmark {

    @Param({"1", "100", "10000"})
    int rules;

    /**
     * {@code indexed}: per-factory project globs ({@code factory-7/*}), which the factory index
     * narrows down to the event's factory; {@code unindexed}: case-insensitive project regexes
     * ({@code /factory-7/.*}{@code /i}), which it cannot, so every rule is checked: the worst case.
     */
    @Param({"indexed", "unindexed"})
    String projects;

    private RuleSet ruleSet;
    private BuildEvent event;
    private BuildEvent otherFactory;
    private Mac mac;
    private byte[] body;

    @Setup
    public void setUp() throws GeneralSecurityException {
        String yaml = rulesYaml(rules, projects.equals("unindexed"));
        ruleSet = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("benchmark-rules.yaml"), yaml);
        if (ruleSet.match("default", seed()).size() != 1) {
            throw new IllegalStateException("exactly one rule should fire");
        }
        event = seed();
        otherFactory = new BuildEvent(5, "https://api.foundries.io/projects/nobody/lmp/builds/5/",
                event.status(), event.runs(), null, null, event.triggerName(), null, null, Map.of());
        mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("benchmark-secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        body = new byte[2400];
    }

    @Benchmark
    public List<PlannedJob> match() {
        return ruleSet.match("default", event);
    }

    /** The same rules and an event for which no rule fires: the cost of matching alone, no job rendered. */
    @Benchmark
    public List<PlannedJob> matchNoneFires() {
        return ruleSet.match("default", otherFactory);
    }

    /** The reference: verifying a 2.4 KB body, which every delivery pays before matching. */
    @Benchmark
    public byte[] hmacOf2400Bytes() {
        return mac.doFinal(body);
    }

    static String rulesYaml(int count, boolean regex) {
        StringBuilder yaml = new StringBuilder("rules:\n");
        for (int i = 0; i < count; i++) {
            String factory = i == 0 ? "andy-corp" : "factory-" + i;
            String project = regex ? "/" + factory + "/.*/i" : factory + "/*";
            yaml.append("  - name: rule-").append(i).append('\n')
                    .append("    when:\n")
                    .append("      project: \"").append(project).append("\"\n")
                    .append("      trigger: [containers-devel, platform-main]\n")
                    .append("      status: [PASSED, PROMOTED]\n")
                    .append("      runs: {match: any, name: \"build-*\", host-tag: aarch64}\n")
                    .append("    run:\n")
                    .append("      command: [/opt/scripts/deploy.sh, \"${build.id}\", \"${build.trigger}\"]\n")
                    .append("      env: {TARGET: staging}\n");
        }
        return yaml.toString();
    }

    /** The seed fixture (fixtures/build-67-passed.json) as records. */
    static BuildEvent seed() {
        String base = "https://api.foundries.io/projects/andy-corp/lmp/builds/67/";
        List<Run> runs = List.of(
                run(base, "build-amd64-partner", "amd64-partner"),
                run(base, "build-armhf", "armhf"),
                run(base, "build-aarch64", "aarch64"),
                run(base, "publish-compose-apps", "amd64-partner"));
        return new BuildEvent(67, base, BuildStatus.of("PASSED"), runs,
                "https://ci.foundries.io/projects/andy-corp/lmp/builds/67", null, "containers-devel",
                OffsetDateTime.parse("2021-07-26T18:10:33+00:00"), OffsetDateTime.parse("2021-07-26T18:19:24+00:00"),
                Map.of());
    }

    private static Run run(String base, String name, String hostTag) {
        String url = base + "runs/" + name + "/";
        return new Run(name, url, BuildStatus.of("PASSED"), url + "console.log",
                "https://ci.foundries.io/projects/andy-corp/lmp/builds/67/" + name + "/",
                null, null, hostTag, null, Map.of());
    }
}
