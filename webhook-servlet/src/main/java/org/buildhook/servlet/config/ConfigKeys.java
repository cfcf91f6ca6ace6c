package org.buildhook.servlet.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Every key {@code buildhook.yaml} accepts, section by section. The reader checks against these sets
 * and a test checks the reference table of docs/configuration.md against {@link #all()}.
 */
final class ConfigKeys {

    static final Set<String> TOP = ordered("data-dir", "rules", "store", "endpoints", "runner", "http", "admin", "server",
            "metrics");
    static final Set<String> STORE = ordered("url", "user", "password", "dedup-window", "retention", "pool-size",
            "connect-timeout");
    static final Set<String> ENDPOINT = ordered("secrets");
    static final Set<String> SECRET = ordered("file", "env", "value");
    static final Set<String> RUNNER = ordered("threads", "node-id", "log-dir", "log-max-bytes", "kill-grace",
            "shutdown-grace", "workdir", "poll-interval", "heartbeat-interval", "missed-heartbeats", "slot-retry",
            "cancel-check", "inherit-env", "watchdog", "deaths-in-a-row", "stops-in-a-row");
    static final Set<String> HTTP = ordered("max-body", "retry-after", "trusted-proxies");
    static final Set<String> ADMIN = ordered("token", "public-url");
    static final Set<String> METRICS = ordered("enabled");
    static final Set<String> SERVER = ordered("host", "port", "context-path", "tls", "idle-timeout", "request-timeout",
            "threads", "stop-timeout");
    static final Set<String> TLS = ordered("keystore", "password");
    static final Set<String> THREADS = ordered("min", "max");

    private ConfigKeys() {
    }

    /**
     * Every key as a dotted path, as docs/configuration.md writes it: an endpoint's name is
     * {@code <name>}, a list item {@code []}, a secret's forms {@code .file}/{@code .env}/{@code .value}.
     */
    static List<String> all() {
        Map<String, Set<String>> sections = new LinkedHashMap<>();
        sections.put("store", STORE);
        sections.put("endpoints.<name>", ENDPOINT);
        sections.put("runner", RUNNER);
        sections.put("http", HTTP);
        sections.put("admin", ADMIN);
        sections.put("server", SERVER);
        sections.put("server.tls", TLS);
        sections.put("server.threads", THREADS);
        sections.put("metrics", METRICS);
        List<String> out = new ArrayList<>(TOP);
        out.add("endpoints.<name>");
        sections.forEach((prefix, keys) -> keys.forEach(k -> out.add(prefix + "." + k)));
        for (String secret : List.of("store.password", "endpoints.<name>.secrets[]", "admin.token", "server.tls.password")) {
            SECRET.forEach(form -> out.add(secret + "." + form));
        }
        return out;
    }

    private static Set<String> ordered(String... keys) {
        return java.util.Collections.unmodifiableSet(new java.util.LinkedHashSet<>(List.of(keys)));
    }
}
