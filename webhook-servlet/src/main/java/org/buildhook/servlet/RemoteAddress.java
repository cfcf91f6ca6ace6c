package org.buildhook.servlet;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.regex.Pattern;
import org.buildhook.servlet.config.Cidr;

/**
 * The client's address as recorded with a delivery. {@code X-Forwarded-For} is believed only when
 * the direct peer is a configured trusted proxy; then the right-most address that is not itself a
 * trusted proxy is the client. Never resolves a name (no DNS on the request path).
 */
final class RemoteAddress {

    private static final String OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
    // Strict: an out-of-range dotted quad would otherwise be taken for a host name and looked up.
    private static final Pattern IPV4 = Pattern.compile(OCTET + "(\\." + OCTET + "){3}");
    // Anything with a colon is parsed by the JDK as an IPv6 literal or refused, never looked up.
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private final List<Cidr> trustedProxies;

    RemoteAddress(List<Cidr> trustedProxies) {
        this.trustedProxies = List.copyOf(trustedProxies);
    }

    String resolve(String peer, String forwardedFor) {
        if (forwardedFor == null || trustedProxies.isEmpty() || !trusted(peer)) {
            return peer;
        }
        String[] hops = forwardedFor.split(",");
        for (int i = hops.length - 1; i >= 0; i--) {
            String hop = strip(hops[i].trim());
            if (literal(hop) == null) {
                // Garbage in the chain: stop believing it here; the hop we trusted last is the answer.
                return i == hops.length - 1 ? peer : strip(hops[i + 1].trim());
            }
            if (!trusted(hop)) {
                return hop;
            }
        }
        return strip(hops[0].trim());
    }

    private boolean trusted(String address) {
        InetAddress ip = literal(address);
        return ip != null && trustedProxies.stream().anyMatch(c -> c.contains(ip));
    }

    private static String strip(String hop) {
        if (hop.startsWith("[") && hop.contains("]")) {
            return hop.substring(1, hop.indexOf(']'));
        }
        return hop;
    }

    /** The address of an IP literal, or null for anything else (names are never looked up). */
    static InetAddress literal(String text) {
        if (text == null || !(IPV4.matcher(text).matches() || IPV6.matcher(text).matches())) {
            return null;
        }
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
