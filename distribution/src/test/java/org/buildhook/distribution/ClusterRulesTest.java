package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.buildhook.runner.engine.ClusterRules;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.RulesFingerprint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * tryout17 F4: two real nodes on one PostgreSQL schema. Nodes whose rules files differ change each
 * other's {@code concurrency} for the jobs still to run; each says so (one WARN naming the other node,
 * both fingerprints and what to do), the status page shows it, {@code buildhook check} too, and once
 * they agree again each says so once. Nodes with the same rules file say nothing of the kind. Needs
 * {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI where it fails.
 */
class ClusterRulesTest {

    /** The same text on both nodes: the same rules (the AdminServer's own rules name files of each node's folder). */
    private static final String ONE_AT_A_TIME = "rules:\n  - name: deploy\n    when: {status: PASSED}\n"
            + "    run: {command: [/bin/true], concurrency: 1}\n";
    private static final String TWO_AT_A_TIME = ONE_AT_A_TIME.replace("concurrency: 1", "concurrency: 2");

    @TempDir
    Path dir;

    private TestSchema pg;
    private String store;
    private AdminServer nodeA;
    private AdminServer nodeB;
    /** What ClusterRules logged, from the nodes' threads. */
    private final List<ILoggingEvent> events = new CopyOnWriteArrayList<>();
    private final AppenderBase<ILoggingEvent> log = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            events.add(event);
        }
    };
    private final ch.qos.logback.classic.Logger clusterLog =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(ClusterRules.class);

    @BeforeEach
    void schema() throws Exception {
        pg = TestSchema.create("rules_");
        store = pg.storeUrl;
        log.start();
        clusterLog.addAppender(log);
    }

    @AfterEach
    void stop() throws Exception {
        clusterLog.detachAppender(log);
        for (AdminServer node : new AdminServer[] {nodeA, nodeB}) {
            if (node != null) {
                node.close();
            }
        }
        if (pg != null) {
            pg.close();
        }
    }

    @Test
    void nodesWithDifferentRulesFilesEachSaySoWithWhichNodeAndWhatToDoAndOnceMoreWhenTheyAgree() throws Exception {
        String one = fingerprint(ONE_AT_A_TIME);
        String two = fingerprint(TWO_AT_A_TIME);
        nodeA = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), store, "node-a", ONE_AT_A_TIME);
        nodeB = AdminServer.clusterNode(Files.createDirectories(dir.resolve("b")), store, "node-b", TWO_AT_A_TIME);

        // node-b's start finds node-a's rules at once; node-a finds node-b's at its next look.
        assertThat(warnings("node-b")).singleElement().satisfies(w -> assertThat(w)
                .startsWith("this node (node-b) has other rules than 1 running node(s): its rules file "
                        + dir.resolve("b/rules.yaml") + " has fingerprint " + two + ", but node-a (host ")
                .contains(" has rules " + one + ", loaded at ")
                .contains("A build gets the jobs of the rules of the node that receives it")
                .endsWith("deploy the same rules file to every node, then reload it there (it is reloaded when it"
                        + " changes) or restart the node; 'buildhook check --rules FILE' prints a file's fingerprint"));
        await().atMost(Duration.ofMinutes(1)).until(() -> warnings("node-a").size() == 1);
        assertThat(warnings("node-a").get(0)).startsWith("this node (node-a) has other rules than 1 running node(s):"
                + " its rules file " + dir.resolve("a/rules.yaml") + " has fingerprint " + one + ", but node-b (host ")
                .contains(" has rules " + two);
        assertThat(nodeA.app().clusterRulesDisagreement()).hasValueSatisfying(d -> assertThat(d.otherNodeIds())
                .containsExactly("node-b"));
        assertThat(nodeA.page("", nodeA.signIn()).body()).contains("id=\"cluster-rules-banner\"",
                "The cluster's nodes run different rules.", "This node (node-a) has rules " + one + "; node-b (host ",
                "A build gets the jobs of the rules of the node that receives it", "deploy the same rules file to every node");
        assertThat(nodeB.page("", nodeB.signIn()).body()).contains("This node (node-b) has rules " + two + "; node-a");
        // Something to alert on: each side counts the one other node.
        assertThat(nodeA.page("metrics", null).body()).contains("buildhook_rules_differing_nodes 1.0");
        assertThat(nodeB.page("metrics", null).body()).contains("buildhook_rules_differing_nodes 1.0");
        StringWriter out = new StringWriter();
        assertThat(check(dir.resolve("a/buildhook.yaml"), out)).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(dir.resolve("a/rules.yaml") + ": rules fingerprint " + one)
                .contains(dir.resolve("a/buildhook.yaml") + ": warning: 1 running node(s) have other rules than "
                        + dir.resolve("a/rules.yaml") + " (fingerprint " + one + "): node-b (host ")
                .contains("A build gets the jobs of the rules of the node that receives it")
                .contains("deploy the same rules file to every node");

        // node-b gets node-a's file: both say once that they agree, and nothing shows a difference any more.
        nodeB.replaceRules(ONE_AT_A_TIME);
        await().atMost(Duration.ofMinutes(1)).until(() -> agreed("node-b") == 1 && agreed("node-a") == 1);
        assertThat(nodeA.app().clusterRulesDisagreement()).isEmpty();
        assertThat(nodeB.app().clusterRulesDisagreement()).isEmpty();
        assertThat(nodeA.page("", nodeA.signIn()).body()).doesNotContain("cluster-rules-banner");
        assertThat(nodeA.page("metrics", null).body()).contains("buildhook_rules_differing_nodes 0.0");
        out = new StringWriter();
        assertThat(check(dir.resolve("b/buildhook.yaml"), out)).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).doesNotContain("warning").contains(dir.resolve("b/buildhook.yaml")
                + ": every running node that records its rules has these (node-a, node-b)");
        assertThat(warnings("node-a")).hasSize(1);
        assertThat(warnings("node-b")).hasSize(1);
    }

    @Test
    void nodesWithTheSameRulesFileSayNothingOfADifference() throws Exception {
        nodeA = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), store, "node-a", ONE_AT_A_TIME);
        nodeB = AdminServer.clusterNode(Files.createDirectories(dir.resolve("b")), store, "node-b", ONE_AT_A_TIME);

        assertThat(messages(Level.INFO, "this node (node-b)")).containsExactly("this node (node-b) has rules fingerprint "
                + fingerprint(ONE_AT_A_TIME) + "; the same as the other running node(s) node-a");
        StringWriter out = new StringWriter();
        assertThat(check(dir.resolve("a/buildhook.yaml"), out)).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).doesNotContain("warning")
                .contains("every running node that records its rules has these (node-a, node-b)");
        assertThat(nodeB.page("", nodeB.signIn()).body()).doesNotContain("cluster-rules-banner");
        assertThat(nodeB.page("metrics", null).body()).contains("buildhook_rules_differing_nodes 0.0");
        assertThat(events).extracting(ILoggingEvent::getLevel).doesNotContain(Level.WARN);
        assertThat(nodeA.app().clusterRulesDisagreement()).isEmpty();
        assertThat(nodeB.app().clusterRulesDisagreement()).isEmpty();
    }

    private static String fingerprint(String rules) {
        return RulesFingerprint.of(new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"), rules)).shortForm();
    }

    private List<String> warnings(String node) {
        return messages(Level.WARN, "this node (" + node + ")");
    }

    private long agreed(String node) {
        return messages(Level.INFO, "the rules of this node (" + node + ") and of every other running node agree again")
                .size();
    }

    private List<String> messages(Level level, String start) {
        return events.stream().filter(e -> e.getLevel() == level).map(ILoggingEvent::getFormattedMessage)
                .filter(m -> m.startsWith(start)).toList();
    }

    private static int check(Path config, StringWriter out) {
        CommandLine cli = BuildhookCommand.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        return cli.execute("check", "--config", config.toString());
    }
}
