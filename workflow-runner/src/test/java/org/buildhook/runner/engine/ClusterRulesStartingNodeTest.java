package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import org.buildhook.runner.exec.NodeIdentity;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * cluster27 F1: a node that claimed its id moments ago (started beside this one) and has not recorded its rules yet
 * is not called "a buildhook older than this one"; one whose claim is older than the dead-node limit and records
 * none still is. Real PostgreSQL.
 */
class ClusterRulesStartingNodeTest {

    @TempDir
    Path dir;

    @Test
    void aNodeStartingBesideThisOneIsNotCalledOlder() throws Exception {
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"),
                "rules:\n  - name: deploy\n    run: {command: [/bin/true]}\n");
        String url = TestStores.postgresUrl();
        Logger logger = (Logger) LoggerFactory.getLogger(ClusterRules.class);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        logger.addAppender(log);
        try (Store store = Store.open(StoreConfig.of(url, dir))) {
            // node-b: claimed just now, its fingerprint not recorded yet.
            assertThat(store.nodeLeases().claim("node-b", "instance-b", NodeIdentity.current(), Duration.ofMinutes(3),
                    true)).isEmpty();
            // node-old: renewed now, claimed an hour ago, never records a fingerprint (a buildhook before V15).
            try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO node_leases (node_id, instance, host, boot_id, node_pid, node_started,"
                        + " acquired_at, renewed_at) VALUES ('node-old', 'instance-old', 'old-host', '', 99, 1,"
                        + " (extract(epoch from clock_timestamp()) * 1000)::bigint - 3600000,"
                        + " (extract(epoch from clock_timestamp()) * 1000)::bigint)");
            }
            ClusterRules cluster = ClusterRules.start(store, "node-a", () -> rules, Duration.ofHours(1),
                    Duration.ofMinutes(3));
            cluster.close();
        } finally {
            logger.detachAppender(log);
        }

        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage).singleElement().asString()
                .contains("; running node(s) node-old record no fingerprint (a buildhook older than this one): not"
                        + " compared")
                .contains("; node(s) node-b started within the dead-node limit and have not recorded their rules yet:"
                        + " compared once they do")
                .doesNotContain("node-b record no fingerprint").doesNotContain("node-old, node-b")
                .doesNotContain("node-b, node-old");
    }
}
