package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Pattern;
import org.buildhook.core.Sha256;

/**
 * What identifies the rules a node has in force, so that the nodes of a cluster can tell that they run
 * different rules files: the SHA-256 of the enabled rules as their jobs store them (each rule's
 * canonical JSON, {@link RuleSet#snapshots()}, in file order) and the shared resources with their
 * capacities. Exactly what a reload compares to tell a changed file from one saved unchanged: comments,
 * layout, key order and disabled rules do not count, any other edit does. Not a hash of the file's
 * bytes: a comment-only edit is not reloaded, so a node would keep the fingerprint of the file it read
 * before, and two nodes whose files differ only in comments behave the same.
 *
 * <p>It is not secret and reveals none of the rules (the jobs already store each rule's JSON); {@code
 * buildhook check --rules FILE} prints a file's, to compare files before they are deployed.
 *
 * @param hex the 64 lowercase hex digits of the hash
 */
public record RulesFingerprint(String hex) {

    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Changes only if what is hashed changes, so that nodes of one version always agree on one file. */
    private static final String FORMAT = "buildhook-rules-fingerprint-1";

    /** @throws IllegalArgumentException when {@code hex} is not 64 lowercase hex digits */
    public RulesFingerprint {
        Objects.requireNonNull(hex, "hex");
        if (!HEX.matcher(hex).matches()) {
            throw new IllegalArgumentException("a rules fingerprint is 64 lowercase hex digits, got '" + hex + "'");
        }
    }

    /** The fingerprint of {@code rules}. */
    public static RulesFingerprint of(RuleSet rules) {
        StringBuilder text = new StringBuilder(FORMAT).append('\n');
        try {
            // One line per rule: its canonical JSON has no raw line break.
            for (String snapshot : rules.snapshots().values()) {
                text.append(snapshot).append('\n');
            }
            text.append(JSON.writeValueAsString(rules.resources())).append('\n');
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of names to numbers always serialises", e);
        }
        return new RulesFingerprint(HexFormat.of().formatHex(Sha256.digest(text.toString()
                .getBytes(StandardCharsets.UTF_8))));
    }

    /** The first 12 hex digits, as logs, the status page and {@code buildhook check} show it. */
    public String shortForm() {
        return hex.substring(0, 12);
    }

    @Override
    public String toString() {
        return shortForm();
    }
}
