package org.buildhook.servlet.config;

import org.buildhook.core.Secret;

/**
 * The {@code admin:} section.
 *
 * @param token       the bearer token of the admin API and the status page, or {@code null} when they are off
 * @param generated   whether the token is {@code generate}: kept in {@code <data-dir>/admin-token}
 * @param clientToken the same token as text, only when read by {@link ConfigLoader#forClientCommands(String...)}
 *                    for an admin command to send, from {@code {file:}}, {@code {env:}} or
 *                    {@code {value:}}; {@code null} otherwise (a server never keeps it as text)
 */
public record AdminSettings(Secret token, boolean generated, String clientToken) {

    /** A token read from the configuration, for the server. */
    public AdminSettings(Secret token) {
        this(token, false, null);
    }

    /** The admin API and the status page are off. */
    public static AdminSettings off() {
        return new AdminSettings(null);
    }

    public boolean enabled() {
        return token != null;
    }

    @Override
    public String toString() {
        return "AdminSettings[enabled=" + enabled() + ", generated=" + generated + "]";
    }
}
