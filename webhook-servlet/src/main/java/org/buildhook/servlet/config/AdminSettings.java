package org.buildhook.servlet.config;

import org.buildhook.core.Secret;

/**
 * The {@code admin:} section.
 *
 * @param token the bearer token of the admin API and the status page, or {@code null} when they are off
 */
public record AdminSettings(Secret token) {

    /** The admin API and the status page are off. */
    public static AdminSettings off() {
        return new AdminSettings(null);
    }

    public boolean enabled() {
        return token != null;
    }

    @Override
    public String toString() {
        return "AdminSettings[enabled=" + enabled() + "]";
    }
}
