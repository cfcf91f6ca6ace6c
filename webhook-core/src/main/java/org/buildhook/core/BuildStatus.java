package org.buildhook.core;

import java.util.Locale;
import java.util.Objects;

/**
 * A build's or a run's status as JobServ reports it.
 *
 * <p>{@link #known()} maps the value onto the statuses this version knows; a value a newer
 * JobServ adds is kept verbatim in {@link #value()} and reports {@link Known#UNKNOWN}, so it
 * can still be stored, shown and matched by name.
 */
public record BuildStatus(String value) {

    /** The statuses JobServ sends today. */
    public enum Known {
        QUEUED, UPLOADING, RUNNING, PASSED, FAILED, RUNNING_WITH_FAILURES, PROMOTED, CANCELLING, SKIPPED,
        /** A value this version does not know; see {@link BuildStatus#value()}. */
        UNKNOWN
    }

    private static final Known[] KNOWN = Known.values();

    public BuildStatus {
        Objects.requireNonNull(value, "value");
    }

    public static BuildStatus of(String value) {
        return new BuildStatus(value);
    }

    public static BuildStatus of(Known known) {
        if (known == Known.UNKNOWN) {
            throw new IllegalArgumentException("UNKNOWN has no wire value");
        }
        return new BuildStatus(known.name());
    }

    public Known known() {
        for (Known k : KNOWN) {
            if (k != Known.UNKNOWN && k.name().equals(value)) {
                return k;
            }
        }
        return Known.UNKNOWN;
    }

    public boolean is(Known known) {
        return known() == known;
    }

    /** True for statuses after which the build or run will not change again on its own. */
    public boolean isFinal() {
        switch (known()) {
            case PASSED: case FAILED: case PROMOTED: case SKIPPED:
                return true;
            default:
                return false;
        }
    }

    public boolean equalsIgnoreCase(String other) {
        return other != null && value.toUpperCase(Locale.ROOT).equals(other.toUpperCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return value;
    }
}
