package org.buildhook.benchmarks.load;

import org.buildhook.core.SignatureVerifier;
import org.buildhook.core.Signer;

/** How a receiver expects the HMAC-SHA256 of the body: header name and value format. */
public enum HeaderStyle {

    /** JobServ's own: {@code X-JobServ-Sig: sha256:<hex>} (buildhook). */
    JOBSERV("X-JobServ-Sig", SignatureVerifier.PREFIX),

    /** GitHub's: {@code X-Hub-Signature-256: sha256=<hex>} (adnanh/webhook's payload-hmac-sha256). */
    HUB("X-Hub-Signature-256", "sha256=");

    private final String header;
    private final String prefix;

    HeaderStyle(String header, String prefix) {
        this.header = header;
        this.prefix = prefix;
    }

    /** The header name. */
    public String header() {
        return header;
    }

    /** The header value for {@code body} signed with {@code secret}: the same HMAC, this style's prefix. */
    public String sign(byte[] body, byte[] secret) {
        String jobServ = Signer.sign(body, secret);
        return prefix + jobServ.substring(SignatureVerifier.PREFIX.length());
    }

    /** The style named {@code name} ({@code jobserv} or {@code hub}, any case). */
    public static HeaderStyle named(String name) {
        for (HeaderStyle style : values()) {
            if (style.name().equalsIgnoreCase(name)) {
                return style;
            }
        }
        throw new IllegalArgumentException("--style: expected jobserv or hub, got '" + name + "'");
    }
}
