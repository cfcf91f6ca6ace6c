package org.buildhook.servlet.config;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.buildhook.core.Secret;

/**
 * One webhook endpoint: {@code POST /webhook/<name>}, accepted when its signature matches any of the
 * secrets (several at once while a secret is rotated).
 *
 * @param name    {@code [a-z0-9][a-z0-9_-]{0,62}}
 * @param secrets at least one; their values never appear in {@link #toString()}
 */
public record EndpointConfig(String name, List<Secret> secrets) {

    /** What an endpoint name may look like; it becomes a URL path segment. */
    public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");

    public EndpointConfig {
        Objects.requireNonNull(name, "name");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("bad endpoint name '" + name
                    + "': use a-z, 0-9, '_' and '-' (at most 63), starting with a letter or digit");
        }
        secrets = List.copyOf(secrets);
        if (secrets.isEmpty()) {
            throw new IllegalArgumentException("endpoint '" + name + "' needs at least one secret");
        }
    }

    @Override
    public String toString() {
        return "EndpointConfig[name=" + name + ", secrets=" + secrets.size() + "]";
    }
}
