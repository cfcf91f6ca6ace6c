package org.buildhook.runner.rules;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

/** Rule sets for tests, from inline YAML or from the fixture files under {@code rules/}. */
final class TestRules {

    static final Instant LOADED = Instant.parse("2026-11-29T03:00:00Z");
    static final RuleSetLoader LOADER = new RuleSetLoader(Clock.fixed(LOADED, ZoneOffset.UTC));

    private TestRules() {
    }

    static RuleSet parse(String yaml) {
        return LOADER.parse(Path.of("rules.yaml"), yaml);
    }

    static Path resource(String name) {
        try {
            return Path.of(TestRules.class.getResource("/rules/" + name).toURI());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IllegalArgumentException("no test resource rules/" + name, e);
        }
    }

    /** Loads {@code rules/<name>} and names it by its bare file name in problems. */
    static RuleSet load(String name) {
        return LOADER.parse(Path.of(name), read(name));
    }

    static String read(String name) {
        try {
            return java.nio.file.Files.readString(resource(name));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
