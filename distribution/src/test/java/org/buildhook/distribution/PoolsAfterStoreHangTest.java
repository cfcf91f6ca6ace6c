package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A node whose pools opened connections while PostgreSQL hung answers again once PostgreSQL does (tryout22 F3, H).
 * The pools' connections had no connect or login timeout (only the start's first connection had one): a login
 * sent while the database hung, on a connection the database then never answered (here the proxy accepts it and
 * never forwards it, as a frozen server, a failover or a middlebox that lost its state would), was waited for
 * for ever, and HikariCP opens a pool's connections on one thread: every pool stayed empty, and deliveries were
 * answered 503 long after PostgreSQL answered again. A real {@code serve} process behind a real proxy. Without
 * the pools' loginTimeout the last wait times out: nothing is accepted again.
 */
class PoolsAfterStoreHangTest extends AbstractProxiedServeTest {

    PoolsAfterStoreHangTest() {
        super("hang_pools_");
    }

    @Test
    void deliveriesAreAcceptedAgainOnceTheStoreAnswersAfterAHangThatSwallowedTheLogins() throws Exception {
        // The logins' bound is the one this test is about: store.connect-timeout's, not the URL's. 30 s, not 2 s: the
        // start's first login is the bound's too, and a cold JVM on loaded CI took up to 12 s for it (flake26).
        Process server = serveQuickRuleOn(dir.resolve("serve.out"), "url: '" + pg.storeUrl + "', connect-timeout: 30s");
        URI url = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        assertThat(accepted(url)).as("accepted before the hang").isTrue();

        // The database goes away (every connection cut), then comes back hung: it accepts connections and never
        // answers them. The pools, whose connections broke, open new ones, and the hang swallows their logins: six
        // swallowed, more than the node's three pools and its own bounded checks (the store's health, the start's
        // look) open, so each pool's one connection-opening thread has met the hang (with one, a check's
        // connection alone could meet it, and the test passed without the fix).
        pg.proxy.cut();
        pg.proxy.swallowNewConnections();
        pg.proxy.open();
        // (Each pool's thread meets the hang again once a swallowed login ended, 30 s later: minutes are a hung
        // test's bound.)
        await().atMost(Duration.ofMinutes(5)).failFast(() -> !server.isAlive()).until(() -> !accepted(url)
                && pg.proxy.swallowed() >= 6);

        pg.proxy.thaw();

        // The store answers again: the pools' swallowed logins give up after store.connect-timeout (30 s) and new ones
        // are made. Before, none was ever made again (minutes: the test's bound, not the product's).
        await().atMost(Duration.ofMinutes(5)).failFast(() -> !server.isAlive()).until(() -> accepted(url));
    }
}
