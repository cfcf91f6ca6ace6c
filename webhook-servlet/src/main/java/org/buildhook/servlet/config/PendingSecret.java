package org.buildhook.servlet.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.buildhook.core.IoProblems;
import org.buildhook.runner.rules.Problem;

/**
 * A secret generated when the configuration was read whose file ({@code <data-dir>/webhook-secret},
 * {@code admin-token}) did not exist: it is held in memory until the start passed every check that
 * can refuse it (the store lock, the database, {@code runner.node-id}), and only then written by
 * {@link #create()}. A start that is refused leaves no file behind and has announced none, so no
 * operator hands JobServ a secret of a server that never ran (tryout13 F6). Its {@link #toString()}
 * never shows the secret.
 */
public final class PendingSecret {

    private final Path file;
    private final String secret;
    private final String user;
    private final Problem at;

    /**
     * @param file   the file to create, absolute
     * @param secret the secret to write into it (64 hex characters)
     * @param user   whose secret it is, for messages ({@code endpoint 'default'}, {@code the admin API})
     * @param at     where a failure to write is reported: the configuration file's {@code data-dir} key
     *               (its message is replaced)
     */
    PendingSecret(Path file, String secret, String user, Problem at) {
        this.file = Objects.requireNonNull(file, "file");
        this.secret = Objects.requireNonNull(secret, "secret");
        this.user = Objects.requireNonNull(user, "user");
        this.at = Objects.requireNonNull(at, "at");
    }

    /** The file this secret goes into once the start is under way. */
    public Path file() {
        return file;
    }

    /**
     * Writes the secret into its new file, readable by its owner only.
     *
     * @throws ConfigException at {@code data-dir} when the file cannot be made, or when it appeared
     *         since the configuration was read with another secret (another start in the same data
     *         folder made it first): this start then uses a secret nobody else has, and must not serve
     */
    public void create() {
        boolean made;
        try {
            made = GeneratedSecret.create(file, secret);
        } catch (IOException e) {
            throw problem("data-dir: cannot create the secret file " + file + " of " + user + ": "
                    + IoProblems.describe(e) + "; give data-dir a folder this user can create and write in");
        }
        if (!made && !Optional.of(secret).equals(GeneratedSecret.read(file))) {
            throw problem("data-dir: the secret file " + file + " of " + user + " was created by another start while"
                    + " this one started; it is kept as it is: start again, and this server uses it");
        }
    }

    private ConfigException problem(String message) {
        return new ConfigException(List.of(new Problem(at.file(), at.line(), at.column(), message)));
    }

    @Override
    public String toString() {
        return "PendingSecret[" + file + "]";
    }
}
