package org.buildhook.servlet.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.buildhook.runner.engine.EngineConfig;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.StoreConfig;

/**
 * Everything {@code buildhook.yaml} says, with the defaults filled in; made by {@link ConfigLoader}.
 *
 * @param source    the file read, or {@code null} for the embedded defaults
 * @param dataDir   where the database, payloads, logs and generated secrets go (absolute)
 * @param store     how the store is opened
 * @param endpoints the webhook endpoints by name, in file order; at least one
 * @param rulesFile the rules file, or {@code null} for none (no jobs run; see {@link #warnings})
 * @param engine    the job engine's settings
 * @param launcher  how jobs are launched
 * @param http      request limits and trusted proxies
 * @param admin     the admin token, if the admin API is on
 * @param server    the standalone server's section (ignored inside a servlet container)
 * @param metrics   whether {@code GET /metrics} answers
 * @param warnings  things that work but deserve the operator's attention, each a whole line naming its
 *                  place ({@code buildhook.yaml:4:16: warning: key: message}); never contain a secret
 * @param notes     things worth knowing that are not problems (which secret files are used), each a
 *                  whole line ({@code buildhook.yaml: note: message}); logged at INFO, never contain a secret
 * @param pendingSecrets the generated secrets whose files do not exist yet: the start writes them once
 *                  no check can refuse it ({@link PendingSecret#create()}); empty when every secret file
 *                  was there, or for a configuration that is not for serving
 * @param dataDirNamed whether the configuration file writes {@code data-dir}; false for the default, the working
 *                  directory's {@code ./data} (whatever folder that is: a file that names the same folder names it)
 */
public record BuildhookConfig(
        Path source,
        Path dataDir,
        StoreConfig store,
        Map<String, EndpointConfig> endpoints,
        Path rulesFile,
        EngineConfig engine,
        LauncherConfig launcher,
        HttpSettings http,
        AdminSettings admin,
        ServerSettings server,
        MetricsSettings metrics,
        List<String> warnings,
        List<String> notes,
        List<PendingSecret> pendingSecrets,
        boolean dataDirNamed) {

    /**
     * The working directory of jobs whose rule and {@code runner.workdir} name none: a folder of their
     * own in the data folder, created at start, not the data folder itself, where a script that cleans
     * or archives its working directory would take the database and the secrets with it (tryout13 F4).
     */
    public static Path defaultWorkdir(Path dataDir) {
        return dataDir.resolve("work");
    }

    /**
     * Without saying whether the file writes {@code data-dir}: it is taken to, unless the data folder is the working
     * directory's {@code ./data}. Kept for callers written before it was said.
     */
    public BuildhookConfig(Path source, Path dataDir, StoreConfig store, Map<String, EndpointConfig> endpoints,
            Path rulesFile, EngineConfig engine, LauncherConfig launcher, HttpSettings http, AdminSettings admin,
            ServerSettings server, MetricsSettings metrics, List<String> warnings, List<String> notes,
            List<PendingSecret> pendingSecrets) {
        this(source, dataDir, store, endpoints, rulesFile, engine, launcher, http, admin, server, metrics, warnings,
                notes, pendingSecrets, !dataDir.equals(Path.of("").toAbsolutePath().resolve("data").normalize()));
    }

    public BuildhookConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(store, "store");
        endpoints = Collections.unmodifiableMap(new LinkedHashMap<>(endpoints));
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("at least one endpoint is needed");
        }
        endpoints.forEach((name, endpoint) -> {
            if (!name.equals(endpoint.name())) {
                throw new IllegalArgumentException("endpoint '" + endpoint.name() + "' filed under '" + name + "'");
            }
        });
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(launcher, "launcher");
        Objects.requireNonNull(http, "http");
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(metrics, "metrics");
        warnings = List.copyOf(warnings);
        notes = List.copyOf(notes);
        pendingSecrets = List.copyOf(pendingSecrets);
    }

    /** Without secrets left to write. Kept for callers written before they existed. */
    public BuildhookConfig(Path source, Path dataDir, StoreConfig store, Map<String, EndpointConfig> endpoints,
            Path rulesFile, EngineConfig engine, LauncherConfig launcher, HttpSettings http, AdminSettings admin,
            ServerSettings server, MetricsSettings metrics, List<String> warnings, List<String> notes) {
        this(source, dataDir, store, endpoints, rulesFile, engine, launcher, http, admin, server, metrics, warnings,
                notes, List.of());
    }

    /** The same configuration with another {@code server:} section (the command line's flags applied). */
    public BuildhookConfig withServer(ServerSettings other) {
        return new BuildhookConfig(source, dataDir, store, endpoints, rulesFile, engine, launcher, http, admin, other,
                metrics, warnings, notes, pendingSecrets, dataDirNamed);
    }

    /** Without notes. Kept for callers written before they existed. */
    public BuildhookConfig(Path source, Path dataDir, StoreConfig store, Map<String, EndpointConfig> endpoints,
            Path rulesFile, EngineConfig engine, LauncherConfig launcher, HttpSettings http, AdminSettings admin,
            ServerSettings server, MetricsSettings metrics, List<String> warnings) {
        this(source, dataDir, store, endpoints, rulesFile, engine, launcher, http, admin, server, metrics, warnings,
                List.of());
    }

    /** Without a {@code metrics:} section: {@code /metrics} on. Kept for callers written before it existed. */
    public BuildhookConfig(Path source, Path dataDir, StoreConfig store, Map<String, EndpointConfig> endpoints,
            Path rulesFile, EngineConfig engine, LauncherConfig launcher, HttpSettings http, AdminSettings admin,
            ServerSettings server, List<String> warnings) {
        this(source, dataDir, store, endpoints, rulesFile, engine, launcher, http, admin, server, MetricsSettings.on(),
                warnings);
    }

    /** Safe to log: the store URL's password, the secrets and the tokens are hidden. */
    @Override
    public String toString() {
        return "BuildhookConfig[source=" + source + ", dataDir=" + dataDir + ", store=" + StoreUrls.redact(store.url())
                + ", endpoints=" + endpoints.values() + ", rulesFile=" + rulesFile + ", engine=" + engine
                + ", launcher=" + launcher.logDirectory() + ", http=" + http + ", admin=" + admin + ", server=" + server + ", metrics=" + metrics
                + ", warnings=" + warnings.size() + "]";
    }

    /**
     * The warnings that announce a secret file this load generated (webhook-secret, admin-token),
     * each a whole line naming the file and whom to give the secret to; empty when every secret
     * was there already. Said by the start once it wrote them ({@link #pendingSecrets()}); a start
     * refused before that writes no file and says none of them.
     */
    public List<String> generatedSecrets() {
        return warnings.stream().filter(w -> w.contains(": warning: " + ConfigLoader.GENERATED)).toList();
    }
}
