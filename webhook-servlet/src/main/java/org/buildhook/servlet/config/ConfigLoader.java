package org.buildhook.servlet.config;

import org.buildhook.core.BoundedFile;
import org.buildhook.core.FileTooLargeException;
import org.buildhook.core.IoProblems;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.buildhook.core.Secret;
import java.time.Clock;
import org.buildhook.runner.rules.Problem;
import org.buildhook.runner.rules.ProblemCollector;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.YamlNode;
import org.buildhook.runner.rules.YamlTreeReader;
import org.buildhook.runner.store.Dialect;

/**
 * Reads {@code buildhook.yaml} into a {@link BuildhookConfig}. Every mistake in the file is collected
 * and thrown at once as a {@link ConfigException}. Reading writes nothing: a secret file to generate
 * ({@code webhook-secret}, {@code admin-token}) that does not exist yet is made in memory and left
 * to the start to write ({@link BuildhookConfig#pendingSecrets()}) once no check can refuse it. The
 * environment and the working directory are given, so tests control them.
 */
public final class ConfigLoader {

    /**
     * How the warning that announces a secret this load generated goes on (after the file's name);
     * the rest names whose secret it is, its file and whom to give it to. Said by a start that wrote
     * the file ({@link BuildhookConfig#pendingSecrets()}); a refused start writes none and says none.
     */
    public static final String GENERATED = "generated a new secret for ";

    /** The servlet context init-parameter and system property naming the file. */
    public static final String PROPERTY = "buildhook.config";
    /** The environment variable naming the file. */
    public static final String ENV = "BUILDHOOK_CONFIG";
    /** Name of the defaults in messages, where there is no file. */
    static final String DEFAULTS = "embedded defaults";

    private final Map<String, String> environment;
    private final Path workingDirectory;
    private final boolean writes;
    /**
     * Reads only the admin token of the secrets, gives it as text, and refuses only for a problem at these keys (see
     * {@link #forClientCommands(String...)}); {@code null} for the other loaders.
     */
    private final Set<String> clientKeys;
    /** A secret whose file or variable is missing stands in at random (see {@link #forDryRun()}). */
    private final boolean absentSecretsStandIn;
    /** Whether server.host is looked up, as serve will at start (see {@link #resolvingServerHost()}). */
    private final boolean resolvesHost;

    /**
     * @param environment      where {@code {env: NAME}} secrets are looked up (usually {@code System.getenv()})
     * @param workingDirectory what relative defaults such as {@code ./data} resolve against
     */
    public ConfigLoader(Map<String, String> environment, Path workingDirectory) {
        this(environment, workingDirectory, true, null, false, false);
    }

    private ConfigLoader(Map<String, String> environment, Path workingDirectory, boolean writes, Set<String> clientKeys,
            boolean absentSecretsStandIn, boolean resolvesHost) {
        this.environment = Map.copyOf(environment);
        this.workingDirectory = workingDirectory.toAbsolutePath().normalize();
        this.writes = writes;
        this.clientKeys = clientKeys;
        this.absentSecretsStandIn = absentSecretsStandIn;
        this.resolvesHost = resolvesHost;
    }

    /**
     * This loader, also asking whether {@code server.host} is an address {@code serve} can listen on,
     * for {@code buildhook check}: a value that is no IP address nor host name at all (such as
     * {@code 300.1.1.1} or a URL) is a mistake at its place; a host name this machine cannot resolve
     * now is a warning, since serve resolves it again when it starts (DNS or {@code /etc/hosts} may
     * know it then, or on the machine serve runs on). Looking a name up may take as long as the
     * resolver's timeout. The other loaders do not look at it: serve says why it cannot listen when it
     * binds, and a WAR does not use the key.
     */
    public ConfigLoader resolvingServerHost() {
        return new ConfigLoader(environment, workingDirectory, writes, clientKeys, absentSecretsStandIn, true);
    }

    /**
     * This loader, except that it never writes, for {@code buildhook check} and the commands that
     * only look at the configuration. A secret file it would generate ({@code webhook-secret},
     * {@code admin-token}) that does not exist yet is reported in a warning as generated at first
     * start, and stands in as a random secret held in memory only: what it returns is for checking
     * and reading, not for serving (no sender could know that secret).
     */
    public ConfigLoader withoutWriting() {
        return new ConfigLoader(environment, workingDirectory, false, clientKeys, absentSecretsStandIn, resolvesHost);
    }

    /**
     * This loader for {@code buildhook test}, which takes only the rules file, the jobs' default working
     * directory and the warnings from the configuration: it writes nothing, as {@link #withoutWriting()},
     * and a secret it cannot have — a {@code {file:}} that does not exist or cannot be read (another
     * user's 0600 file), an {@code {env:}} variable that is not set (only the server's environment has
     * it), a generated secret file it cannot read — stands in as a random value instead of being a
     * mistake. The secrets it can read are read and checked as usual (a padded secret is still warned
     * about). What it returns is for looking at, never for serving.
     */
    public ConfigLoader forDryRun() {
        return new ConfigLoader(environment, workingDirectory, false, clientKeys, true, resolvesHost);
    }

    /**
     * This loader for the commands that talk to a running server (the admin
     * commands, {@code test}): it writes nothing, as {@link #withoutWriting()}, and reads no secret
     * but {@code admin.token} — an endpoint secret, the database or keystore password stand in as
     * random values, their files and variables (which only the server's environment may have) not
     * looked at; a generated {@code webhook-secret} or {@code admin-token} of the data folder is not read either (a
     * command reads the token file itself). The admin token, from {@code {file:}}, {@code {env:}} or {@code {value:}},
     * is then also given as text in {@link AdminSettings#clientToken()}, for the command to send.
     *
     * <p>Only a problem at a key the commands use refuses the file ({@link ClientKeys#USED}: {@code data-dir},
     * {@code admin.token}, {@code server.host}, {@code server.port}, {@code server.context-path},
     * {@code server.tls.keystore}, their sections, and an unknown key that looks like one of them), and {@code
     * also}: the rules file may be missing or have mistakes, an endpoint's secret file be gone, {@code runner.threads}
     * be out of range (tryout53 F3). {@code server.tls.keystore} says only that the server speaks HTTPS: the keystore
     * need not exist where the command runs. What is returned of the other keys is defaults or partial, never to be
     * used.
     *
     * @param also further keys this command uses (as {@code runner.log-dir})
     */
    public ConfigLoader forClientCommands(String... also) {
        Set<String> keys = new java.util.HashSet<>(ClientKeys.USED);
        keys.addAll(List.of(also));
        return new ConfigLoader(environment, workingDirectory, false, Set.copyOf(keys), absentSecretsStandIn,
                resolvesHost);
    }

    /**
     * Where the configuration file is: the servlet's init-parameter when set, else the system property
     * {@value #PROPERTY}, else the environment variable {@value #ENV}; empty for the embedded defaults.
     */
    public static Optional<Path> locate(String initParam, Map<String, String> env) {
        for (String candidate : new String[] {initParam, System.getProperty(PROPERTY), env.get(ENV)}) {
            if (candidate != null && !candidate.isBlank()) {
                return Optional.of(Path.of(candidate.trim()));
            }
        }
        return Optional.empty();
    }

    /**
     * @throws ConfigException listing every problem of the file, or naming it when it cannot be read
     * @throws org.buildhook.runner.rules.RuleException listing every mistake of its rules file, when this
     *         loader writes (a server about to start): checked before any secret is generated
     */
    public BuildhookConfig load(Path file) {
        Objects.requireNonNull(file, "file");
        String name = file.toString();
        Path absolute = workingDirectory.resolve(file).normalize();
        byte[] bytes;
        try {
            bytes = BoundedFile.read(absolute, YamlTreeReader.MAX_FILE_BYTES);
        } catch (NoSuchFileException e) {
            throw ConfigException.notRead(name, "configuration file not found (looked for " + absolute + ")");
        } catch (FileTooLargeException e) {
            throw ConfigException.notRead(name, "cannot read the configuration file: " + e.getMessage() + "; check"
                    + " that this names the configuration file (buildhook.yaml): it is read whole, and a few KiB hold every"
                    + " setting");
        } catch (IOException e) {
            throw ConfigException.notRead(name, "cannot read the configuration file: " + IoProblems.describe(e));
        }
        // Where it is not UTF-8, as file:line:column and the byte (tryout47b F19).
        Optional<Problem> notUtf8 = org.buildhook.runner.rules.Utf8Text.firstMalformed(name,
                bytes, "the configuration file");
        if (notUtf8.isPresent()) {
            throw new ConfigException(List.of(notUtf8.get()));
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        ProblemCollector problems = new ProblemCollector(name);
        Optional<YamlNode> root = new YamlTreeReader(problems, "the configuration file holds a second YAML document"
                + " (after '---'): keep everything in one document").read(text);
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.sorted());
        }
        return build(absolute, name, root.orElse(null), absolute.getParent());
    }

    /**
     * The embedded defaults, as for an empty file; a {@code <data-dir>/webhook-secret} that does not
     * exist yet is left to the start to write ({@link BuildhookConfig#pendingSecrets()}).
     */
    public BuildhookConfig defaults() {
        return build(null, DEFAULTS, null, workingDirectory);
    }

    private BuildhookConfig build(Path source, String name, YamlNode root, Path baseDir) {
        ProblemCollector problems = new ProblemCollector(name);
        Warnings warnings = new Warnings(name);
        Nodes nodes = new Nodes(problems);
        boolean forClients = clientKeys != null;
        ConfigReader.Draft draft = new ConfigReader(nodes, environment, baseDir, workingDirectory, warnings,
                forClients ? "admin.token"::equals : path -> true, absentSecretsStandIn).resolvingServerHost(resolvesHost)
                .checkingFolders(!forClients && !absentSecretsStandIn).checkingKeystore(!forClients).read(root);
        List<Problem> refusing = forClients ? nodes.about(ClientKeys.within(clientKeys)) : problems.sorted();
        if (!refusing.isEmpty()) {
            throw new ConfigException(refusing, nodes.ofTheMachine(), nodes.notRead());
        }
        if (writes && draft.rulesFile != null) {
            // Everything is validated before anything is created: a start refused for a mistake in
            // the rules file must not leave a generated secret (nor, later, a database) behind.
            new RuleSetLoader(Clock.systemUTC()).load(draft.rulesFile);
        }
        Map<String, EndpointConfig> endpoints = new LinkedHashMap<>(draft.endpoints);
        List<PendingSecret> pending = new java.util.ArrayList<>();
        boolean shared = draft.store.dialect() == Dialect.POSTGRESQL;
        if (endpoints.isEmpty() && forClients) {
            endpoints.put("default", new EndpointConfig("default", List.of(Secret.of(GeneratedSecret.fresh()))));
        } else if (endpoints.isEmpty()) {
            Secret secret = generated(name, draft.dataDirAt, draft.dataDir.resolve("webhook-secret"), "endpoint 'default'",
                    "give it to JobServ: it is the secret the factory signs its webhooks with", warnings, pending,
                    shared ? perNode("endpoints.default.secrets: [{file: …}]",
                            "behind a load balancer the factory's deliveries would be refused (401) by the others") : "");
            endpoints.put("default", new EndpointConfig("default", List.of(secret)));
        }
        Secret adminToken = draft.generateAdminToken && forClients ? Secret.of(GeneratedSecret.fresh())
                : draft.generateAdminToken ? generated(name, draft.dataDirAt, draft.dataDir.resolve("admin-token"), "the admin API",
                        "it is the bearer token of the admin API, the status page and the admin commands"
                                + " (bin/buildhook jobs, logs, ...); never give it to JobServ", warnings, pending,
                        shared ? perNode("admin.token: {file: …}", "each node would refuse the others' token") : "")
                : draft.adminToken;
        if (adminToken != null && (draft.generateAdminToken || draft.endpoints.isEmpty())) {
            // A generated secret copied into the other role's file: same refusal as ConfigReader's.
            for (EndpointConfig endpoint : endpoints.values()) {
                if (endpoint.secrets().contains(adminToken)) {
                    throw ConfigException.about(name, "admin.token: the admin token is also a secret of endpoint '"
                            + endpoint.name() + "'; whoever signs webhooks with it could use the admin API: give"
                            + " each a secret of its own");
                }
            }
        }
        if (draft.rulesFile == null) {
            warnings.add("no rules file configured (rules:): webhooks are received and stored, but no job runs");
        }
        return new BuildhookConfig(source, draft.dataDir, draft.store, endpoints, draft.rulesFile, draft.engine,
                draft.launcher, draft.http, new AdminSettings(adminToken, draft.generateAdminToken,
                        forClients ? draft.adminTokenText : null),
                draft.server, draft.metrics,
                warnings.list(), warnings.notes(), pending, draft.dataDirAt != null);
    }

    /**
     * What a secret generated into one node's data folder means on a store several nodes may share
     * (tryout17: the Clustering section's "the same buildhook.yaml on every node", with the shipped
     * defaults, gave each node a webhook secret and an admin token of its own).
     *
     * @param key  the key that names a file copied to every node instead
     * @param otherwise what happens in a cluster without it
     */
    private static String perNode(String key, String otherwise) {
        return "; the store is PostgreSQL, which several nodes may share, and each node generates its own: in a"
                + " cluster every node needs the same one, from a file copied to each (" + key + "; deploying.md,"
                + " Clustering), else " + otherwise;
    }

    /**
     * @param dataDirAt where {@code data-dir} is written (the folder the file goes in), null for the default
     * @param purpose   what the secret is for, said when it is generated (the operator must hand it to the right party)
     * @param cluster   what a secret of this node's own means on a shared store, appended to the warning
     *                  that it is (or will be) generated; empty on SQLite
     */
    private Secret generated(String name, YamlNode.Location dataDirAt, Path file, String user, String purpose,
            Warnings warnings, List<PendingSecret> pending, String cluster) {
        Optional<String> dangling = GeneratedSecret.danglingLink(file);
        if (dangling.isPresent() && !absentSecretsStandIn) {
            // Read as absent, a new secret would be refused at its write as "created by another start"
            // (review15): say what the file is, for check and serve alike.
            throw notRead(dataDirProblem(name, dataDirAt, "data-dir: the secret file " + file
                    + " of " + user + " is a symbolic link to " + dangling.get() + ", which does not exist: restore"
                    + " the file it points to, or remove the link to have a new secret generated"));
        }
        if (!writes && !Files.exists(file)) {
            warnings.add("the secret of " + user + " will be generated at first start in " + file
                    + " (nothing is written now)" + cluster);
            return Secret.of(GeneratedSecret.fresh());
        }
        Optional<String> kept;
        try {
            kept = GeneratedSecret.read(file);
        } catch (UncheckedIOException e) {
            if (absentSecretsStandIn) {
                return Secret.of(GeneratedSecret.fresh());
            }
            // The folder is data-dir's: said at that key, as every other mistake of the file.
            String message = "data-dir: cannot read the secret file " + file + " of " + user + ": "
                    + IoProblems.describe(e.getCause()) + (e.getCause() instanceof FileTooLargeException
                    ? "; it is no secret buildhook wrote: move it away to have a new secret generated"
                    : "; give data-dir a folder this user can read and write in");
            throw notRead(dataDirProblem(name, dataDirAt, message));
        }
        if (kept.isPresent()) {
            if (kept.get().isEmpty()) {
                throw ConfigException.about(name, "the secret file " + file + " of " + user
                        + " is empty: delete it to have a new secret generated");
            }
            warnings.note("using the secret of " + user + " in " + file);
            return Secret.of(kept.get());
        }
        // Written by the start once nothing can refuse it any more (tryout13 F6): a refused start leaves
        // no secret file behind, and says nothing of one.
        String secret = GeneratedSecret.fresh();
        pending.add(new PendingSecret(file, secret, user, dataDirProblem(name, dataDirAt, "")));
        warnings.add(GENERATED + user + " in " + file + " (readable by its owner only); " + purpose + cluster);
        return Secret.of(secret);
    }

    /** A file that is not there or cannot be read: no mistake of the text, a restart may find it mended (fix55b). */
    private static ConfigException notRead(Problem problem) {
        return new ConfigException(List.of(problem), List.of(), List.of(problem));
    }

    private static Problem dataDirProblem(String name, YamlNode.Location dataDirAt, String message) {
        return dataDirAt == null ? new Problem(name, 0, 0, message)
                : new Problem(name, dataDirAt.line(), dataDirAt.column(), message);
    }
}
