package org.buildhook.servlet.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

    @ParameterizedTest(name = "{0} contains {1}: {2}")
    @CsvSource({
        "10.0.0.0/8,      10.255.1.2,      true",
        "10.0.0.0/8,      11.0.0.1,        false",
        "192.168.1.0/24,  192.168.1.255,   true",
        "192.168.1.0/24,  192.168.2.1,     false",
        "172.16.0.0/12,   172.31.255.255,  true",
        "172.16.0.0/12,   172.32.0.0,      false",
        "127.0.0.1,       127.0.0.1,       true",
        "127.0.0.1,       127.0.0.2,       false",
        "0.0.0.0/0,       8.8.8.8,         true",
        "fd00::/8,        fd12:3456::1,    true",
        "fd00::/8,        fe80::1,         false",
        "2001:db8::/33,   2001:db8:7fff::, true",
        "2001:db8::/33,   2001:db8:8000::, false",
        "::1,             ::1,             true",
        "::1,             ::2,             false",
        "::/0,            10.0.0.1,        false",
        "0.0.0.0/0,       ::1,             false",
    })
    void tellsWhetherAnAddressIsInTheBlock(String block, String address, boolean expected) throws UnknownHostException {
        assertThat(Cidr.parse(block).contains(InetAddress.getByName(address))).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "10.0.0.0/33      | bad address block '10.0.0.0/33': the prefix length after '/' must be 0..32 for an IPv4 address",
        "fd00::/129       | bad address block 'fd00::/129': the prefix length after '/' must be 0..128 for an IPv6 address",
        "10.0.0.0/x       | bad address block '10.0.0.0/x': the prefix length after '/' must be 0..32 for an IPv4 address",
        "10.0.0.256       | bad address block '10.0.0.256': 256 is not 0..255; write an IPv4 or IPv6 address, optionally /prefix, like 10.0.0.0/8 or fd00::/8",
        "proxy.example    | bad address block 'proxy.example': write an IPv4 or IPv6 address, optionally /prefix, like 10.0.0.0/8 or fd00::/8 (no host names)",
        "1:2:3:4:5:6:7:8:9 | bad address block '1:2:3:4:5:6:7:8:9': not a valid IPv4 or IPv6 address; write one like 10.0.0.0/8 or fd00::/8",
    })
    void explainsBadInput(String text, String message) {
        assertThatThrownBy(() -> Cidr.parse(text)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    }
}
