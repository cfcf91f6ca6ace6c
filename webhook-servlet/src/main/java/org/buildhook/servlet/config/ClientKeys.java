package org.buildhook.servlet.config;

import java.util.Set;
import java.util.function.Predicate;

/**
 * The keys of {@code buildhook.yaml} the admin commands use ({@link ConfigLoader#forClientCommands}): the data folder
 * (its {@code server-url} and {@code admin-token}), the server's address and whether it serves HTTPS, and the admin
 * token. A problem at any other key — a rules file that is missing or has mistakes, an endpoint's secret file, the
 * database password, a runner setting out of range — is {@code check}'s and {@code serve}'s to report, and does not stop
 * a command that does not use it (tryout53 F3: while the rules file was moved away, {@code status} refused to run,
 * when it is the command that says the running server refuses it).
 */
final class ClientKeys {

    /** The key of a problem about the whole file (not a mapping at all): every command uses it. */
    static final String WHOLE_FILE = "(top level)";

    /** What every admin command uses. */
    static final Set<String> USED = Set.of("data-dir", "admin.token", "server.host", "server.port",
            "server.context-path", "server.tls.keystore");

    private ClientKeys() {
    }

    /**
     * Whether a problem about {@code path} concerns one of {@code used}: the key itself, a part of it
     * ({@code admin.token.file}), or the section it is in ({@code server}, {@code server.tls}: not a mapping, the key
     * cannot be read).
     */
    static Predicate<String> within(Set<String> used) {
        return path -> path.equals(WHOLE_FILE) || used.stream().anyMatch(key -> path.equals(key)
                || path.startsWith(key + ".") || path.startsWith(key + "[") || key.startsWith(path + "."));
    }
}
