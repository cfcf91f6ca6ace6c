package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * cluster27 F10: one rules file rolled out to every node at once. The node that reloads first sees the other's old
 * rules for the moment the other takes to reload; that is no difference to warn of (the WARN told the operator to do
 * what they had just done) nor to show. A difference still there one {@code every} after the reload is said, as
 * before. Real PostgreSQL; the second node's reload is made by the test between the first's reload and its
 * confirming look, which comes 10 s later.
 */
class ClusterRulesRollOutTest {

    private final ListAppender<ILoggingEvent> log = new ListAppender<>();

    private static final Duration EVERY = Duration.ofSeconds(10);
    private static final Duration DEAD_LIMIT = Duration.ofMinutes(3);

    @TempDir
    Path dir;

    @Test
    void aRollOutToEveryNodeSaysNoDifferenceButADifferenceThatStaysIsSaid() throws Exception {
        RuleSet one = rules("/bin/true");
        RuleSet two = rules("/bin/false");
        RuleSet three = rules("/bin/echo");
        AtomicReference<RuleSet> rulesOfA = new AtomicReference<>(one);
        AtomicReference<RuleSet> rulesOfB = new AtomicReference<>(one);
        AtomicReference<RuleSet> agreedByA = new AtomicReference<>();
        Logger logger = (Logger) LoggerFactory.getLogger(ClusterRules.class);
        log.start();
        logger.addAppender(log);
        try (Store store = Store.open(StoreConfig.of(TestStores.postgresUrl(), dir))) {
            for (String node : List.of("node-a", "node-b")) {
                assertThat(store.nodeLeases().claim(node, "instance-" + node, NodeIdentity.current(), DEAD_LIMIT, true))
                        .isEmpty();
            }
            try (ClusterRules a = ClusterRules.start(store, "node-a", rulesOfA::get, EVERY, DEAD_LIMIT, agreedByA::set);
                    ClusterRules b = ClusterRules.start(store, "node-b", rulesOfB::get, EVERY, DEAD_LIMIT)) {
                // The roll-out: node-a reloads first and records its new rules while node-b still has the old ones.
                rulesOfA.set(two);
                a.reloaded();
                await().atMost(Duration.ofMinutes(1)).until(() -> recorded(store, "node-a", two));
                assertThat(a.disagreement()).isEmpty();
                rulesOfB.set(two);
                b.reloaded();
                await().atMost(Duration.ofMinutes(1)).until(() -> recorded(store, "node-b", two));
                // node-a's confirming look finds them agreeing.
                await().atMost(Duration.ofMinutes(1)).until(() -> agreedByA.get() == two);
                assertThat(warnings()).isEmpty();
                assertThat(a.disagreement()).isEmpty();
                assertThat(b.disagreement()).isEmpty();
                log.list.clear();

                // A difference that stays: node-a alone gets a third file. Each node says it once it has stayed.
                rulesOfA.set(three);
                a.reloaded();
                await().atMost(Duration.ofMinutes(1)).until(() -> warnings().size() == 2);
                assertThat(warnings()).anySatisfy(w -> assertThat(w)
                        .startsWith("this node (node-a) has other rules than 1 running node(s)"))
                        .anySatisfy(w -> assertThat(w).startsWith("this node (node-b) has other rules than 1 running"));
                assertThat(a.disagreement()).hasValueSatisfying(d -> assertThat(d.otherNodeIds())
                        .containsExactly("node-b"));
                assertThat(b.disagreement()).hasValueSatisfying(d -> assertThat(d.otherNodeIds())
                        .containsExactly("node-a"));
            }
        } finally {
            logger.detachAppender(log);
        }
    }

    private List<String> warnings() {
        return log.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage)
                .toList();
    }

    private static boolean recorded(Store store, String node, RuleSet rules) {
        RulesFingerprint expected = RulesFingerprint.of(rules);
        return store.nodeLeases().runningNodesRules(DEAD_LIMIT).stream()
                .filter(n -> n.nodeId().equals(node)).map(NodeLeases.NodeRules::fingerprint)
                .anyMatch(f -> f.isPresent() && f.get().hex().equals(expected.hex()));
    }

    private static RuleSet rules(String command) throws Exception {
        return new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"),
                "rules:\n  - name: deploy\n    run: {command: [" + command + "]}\n");
    }
}
