package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.buildhook.servlet.config.Cidr;
import org.junit.jupiter.api.Test;

class RemoteAddressTest {

    final RemoteAddress behindProxies = new RemoteAddress(List.of(Cidr.parse("127.0.0.1"), Cidr.parse("10.0.0.0/8"),
            Cidr.parse("::1")));

    @Test
    void withoutTrustedProxiesTheForwardedHeaderIsIgnored() {
        RemoteAddress direct = new RemoteAddress(List.of());

        assertThat(direct.resolve("127.0.0.1", "203.0.113.9")).isEqualTo("127.0.0.1");
    }

    @Test
    void aForwardedHeaderFromAnUntrustedPeerIsIgnored() {
        assertThat(behindProxies.resolve("198.51.100.4", "203.0.113.9")).isEqualTo("198.51.100.4");
    }

    @Test
    void theRightMostAddressThatIsNotATrustedProxyIsTheClient() {
        assertThat(behindProxies.resolve("127.0.0.1", "203.0.113.9")).isEqualTo("203.0.113.9");
        assertThat(behindProxies.resolve("127.0.0.1", "198.51.100.1, 203.0.113.9, 10.1.2.3")).isEqualTo("203.0.113.9");
        assertThat(behindProxies.resolve("::1", "[2001:db8::7]")).isEqualTo("2001:db8::7");
    }

    @Test
    void aChainOfOnlyTrustedProxiesGivesItsLeftMostAddress() {
        assertThat(behindProxies.resolve("127.0.0.1", "10.0.0.5, 10.0.0.6")).isEqualTo("10.0.0.5");
    }

    @Test
    void garbageInTheChainIsNeverTakenForTheClientNorLookedUp() {
        // "evil.example" would need a DNS lookup: it is not an address, so the last trusted hop stands.
        assertThat(behindProxies.resolve("127.0.0.1", "evil.example")).isEqualTo("127.0.0.1");
        assertThat(behindProxies.resolve("127.0.0.1", "evil.example, 10.0.0.9")).isEqualTo("10.0.0.9");
        assertThat(behindProxies.resolve("127.0.0.1", "999.1.1.1")).isEqualTo("127.0.0.1");
        assertThat(RemoteAddress.literal("999.1.1.1")).isNull();
        assertThat(RemoteAddress.literal("localhost")).isNull();
    }
}
