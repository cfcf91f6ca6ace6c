package org.buildhook.servlet.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A block of IPv4 or IPv6 addresses, {@code 10.0.0.0/8} or {@code fd00::/8}; a plain address is a
 * block of one ({@code /32} or {@code /128}).
 *
 * @param network      the address as written (host bits are ignored by {@link #contains})
 * @param prefixLength how many leading bits must match: 0..32 for IPv4, 0..128 for IPv6
 */
public record Cidr(InetAddress network, int prefixLength) {

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    public Cidr {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("the prefix length must be 0.." + bits + " for "
                    + network.getHostAddress() + ", got " + prefixLength);
        }
    }

    /**
     * Parses {@code address} or {@code address/prefix}. Only numeric addresses: a host name would
     * need a DNS lookup, and a proxy's trust must not depend on DNS.
     *
     * @throws IllegalArgumentException saying what is wrong, fit for the operator
     */
    public static Cidr parse(String text) {
        Objects.requireNonNull(text, "text");
        String trimmed = text.trim();
        int slash = trimmed.indexOf('/');
        String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
        InetAddress network = address(text, address);
        int bits = network.getAddress().length * 8;
        if (slash < 0) {
            return new Cidr(network, bits);
        }
        String prefix = trimmed.substring(slash + 1);
        if (!prefix.matches("\\d{1,3}") || Integer.parseInt(prefix) > bits) {
            throw new IllegalArgumentException("bad address block '" + text + "': the prefix length after '/' must be 0.."
                    + bits + " for an " + (bits == 32 ? "IPv4" : "IPv6") + " address");
        }
        return new Cidr(network, Integer.parseInt(prefix));
    }

    /** Whether {@code address} lies in this block; an IPv4 address is never in an IPv6 block and vice versa. */
    public boolean contains(InetAddress address) {
        byte[] candidate = address.getAddress();
        byte[] net = network.getAddress();
        if (candidate.length != net.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (candidate[i] != net[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xFF << (8 - rest)) & 0xFF;
        return (candidate[full] & mask) == (net[full] & mask);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    private static InetAddress address(String text, String address) {
        boolean v4 = IPV4.matcher(address).matches();
        if (v4) {
            for (String part : address.split("\\.")) {
                if (Integer.parseInt(part) > 255) {
                    throw new IllegalArgumentException("bad address block '" + text + "': " + part
                            + " is not 0..255; write an IPv4 or IPv6 address, optionally /prefix, like 10.0.0.0/8 or fd00::/8");
                }
            }
        }
        if (!v4 && !IPV6.matcher(address).matches()) {
            throw new IllegalArgumentException("bad address block '" + text
                    + "': write an IPv4 or IPv6 address, optionally /prefix, like 10.0.0.0/8 or fd00::/8 (no host names)");
        }
        try {
            // Numeric only (checked above), so no DNS lookup happens here.
            return InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address block '" + text
                    + "': not a valid IPv4 or IPv6 address; write one like 10.0.0.0/8 or fd00::/8", e);
        }
    }
}
