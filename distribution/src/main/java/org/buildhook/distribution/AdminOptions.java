package org.buildhook.distribution;

import org.buildhook.core.BoundedFile;
import org.buildhook.core.FileTooLargeException;
import org.buildhook.core.IoProblems;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ServerSettings;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options every admin command shares: where the server is and where its admin token comes
 * from. The token is read from a file or an environment variable, never an argument (arguments
 * are visible to every user in {@code ps}).
 */
final class AdminOptions {

    @Option(names = "--url", paramLabel = "URL", converter = HttpUrlConverter.class,
            description = "The server's base URL (default: where the running 'serve' of this configuration "
                    + "listens, as it wrote into <data-dir>/server-url (when that server was killed, another running "
                    + "server of the data folder), a file taken only when it and the data folder are this user's or "
                    + "root's and not writable by group or others, else exit 3; else the address the configuration's "
                    + "server.host, server.port and server.context-path name, when it sets one of them; else none: "
                    + "the admin token is not sent to a guessed address. A WAR's URL includes its context path: "
                    + "http://127.0.0.1:8080/buildhook/).")
    URI url;

    @Option(names = "--token-file", paramLabel = "FILE",
            description = "File holding the admin token (default: the configuration's admin.token, from its "
                    + "file, environment variable or value; for 'admin: {token: generate}' <data-dir>/admin-token).")
    Path tokenFile;

    @Option(names = "--token-env", paramLabel = "NAME", description = "Environment variable holding the admin token.")
    String tokenEnv;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE",
            description = "The configuration file the defaults are taken from (default: as 'serve' finds it).")
    Path config;

    @Option(names = "--json", description = "Print the API's JSON answer instead of a table.")
    boolean json;

    /** The command these options belong to: its standard error gets the note of where it asks, if any. */
    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Whether the note of where this command asks was said already (a command may make several clients). */
    private boolean noted;

    /**
     * The client {@link #client()} made, kept for the command's later requests: {@code jobs} asks {@code /api/jobs}
     * and then {@code /healthz}, {@code job show} the job and its follow-ups, and each new client read the
     * configuration again and started another {@link java.net.http.HttpClient} (cli49: CPU of every command).
     */
    private AdminClient client;

    /**
     * The parse of the command line {@link #client} was made for: a program (a test) may run one command object
     * several times, with other options or against a server started since, and gets a new client each time.
     */
    private Object clientFor;

    /**
     * These options, each one not given taken from {@code outer}: those a group command was given
     * before its subcommand ({@code job --config F show ID}).
     */
    AdminOptions over(AdminOptions outer) {
        AdminOptions merged = new AdminOptions();
        merged.url = url != null ? url : outer.url;
        merged.tokenFile = tokenFile != null ? tokenFile : outer.tokenFile;
        merged.tokenEnv = tokenEnv != null ? tokenEnv : outer.tokenEnv;
        merged.config = config != null ? config : outer.config;
        merged.json = json || outer.json;
        merged.command = command != null ? command : outer.command;
        return merged;
    }

    /**
     * The client of the server these options name, made at the first call (reading the configuration when
     * {@code --url} or the token's source is not given; saying once, on standard error, where it asks) and the same
     * one at every later call of the same run of the command.
     *
     * @throws CommandFailure when the configuration cannot be read, no trusted address is known or no token found
     */
    AdminClient client() {
        Object parse = command == null ? null : command.commandLine().getParseResult();
        if (client == null || clientFor != parse) {
            client = newClient();
            clientFor = parse;
        }
        return client;
    }

    private AdminClient newClient() {
        BuildhookConfig loaded = url != null && (tokenFile != null || tokenEnv != null) ? null : Configs.readForAdmin(config);
        URI base = url;
        if (base == null) {
            // server-url, unless the server that wrote it was killed: said on standard error, once (tryout41 F5).
            // Else only an address the configuration names: never the default guess (tryout48 F7).
            ServerUrlFile.Found found = ServerUrlFile.find(loaded.dataDir(), configuredUrl(loaded.server()),
                    namedBy(loaded));
            if (found.untrusted()) {
                throw untrusted(found.note().orElseThrow(), loaded);
            }
            if (found.url().isEmpty()) {
                throw nowhere(found.note().orElse("no server of this data folder runs here"), loaded);
            }
            base = found.url().get();
            found.note().ifPresent(this::note);
        }
        // Its process on this host, when its own file of the data folder says so: a command it gives no answer looks
        // at it (tryout49 F7).
        java.util.OptionalLong pid = loaded == null ? java.util.OptionalLong.empty()
                : ServerUrlFile.localPid(loaded.dataDir(), base, namedBy(loaded));
        return new AdminClient(base, token(loaded, System.getenv()), AdminClient.ANSWER_TIMEOUT,
                pid.isPresent() ? org.buildhook.runner.exec.ProcessIdentity.of(pid.getAsLong()) : null);
    }

    /**
     * Why a command given no {@code --url} asks nothing (tryout48 F7): no running server wrote {@code server-url},
     * and the configuration names no address, so the only one left is the embedded default
     * ({@code http://localhost:8080/}), which may be any program's on this host (a WAR's configuration never has a
     * {@code server-url}: Tomcat, Jenkins or anyone's listener there received the admin token).
     */
    private static CommandFailure nowhere(String why, BuildhookConfig loaded) {
        String from = loaded.source() == null ? "the embedded defaults" : loaded.source().toString();
        boolean unreadable = why.startsWith("this user cannot read");
        return new CommandFailure(why + ". That is the data folder of " + from + relativeDataDir(loaded) + "; the"
                + " configuration names no server address (server.host, server.port or server.context-path), so this"
                + " command asks no server: the admin token is not sent to a guessed address such as "
                + defaultUrl(loaded.server()) + ", where another program may listen. "
                + (unreadable ? "Run the command as a user who may read the data folder (sudo -u buildhook …), or"
                        : "Start the server, ask a server started with --config FILE (as the systemd unit is) with the"
                        + " same --config, or")
                + " give its address with --url; a WAR in a servlet container writes no server-url, and its URL"
                + " includes its context path: --url http://127.0.0.1:8080/buildhook/; a standalone server at the"
                + " default address is asked once the configuration names it: server: {port: 8080}",
                ExitCodes.UNAVAILABLE);
    }

    /**
     * Why a command given no {@code --url} asks nothing when an address file of the data folder may have been written
     * by someone other than the server's user (review48 F7): the admin token would go to whatever address that one
     * wrote. {@code why} begins with the file's path ({@link ServerUrlTrust#untrusted}).
     */
    private static CommandFailure untrusted(String why, BuildhookConfig loaded) {
        String from = loaded.source() == null ? "the embedded defaults" : loaded.source().toString();
        String owners = ServerUrlTrust.effectiveUid() == 0 ? "root, or by the server's user when a configuration file"
                + " (root's or that user's, writable by no one else) names the data folder and every folder and"
                + " symbolic link on the way to the data folder is root's or that user's and not writable by group or"
                + " others (as the systemd unit's /var/lib/buildhook, named by /etc/buildhook/buildhook.yaml)"
                : System.getProperty("user.name") + ", who runs this command, or root";
        return new CommandFailure(why + ": someone other than the server's user may have written the address in it,"
                + " so this command does not read it and sends the admin token nowhere. That is the data folder of "
                + from + relativeDataDir(loaded) + ". Give the server's address with --url, or make the data folder"
                + " and its server-url and server-urls (folder and files) owned by " + owners + ", and not writable by"
                + " group or others (chmod go-w; a running 'buildhook serve' makes its own so)"
                + (ServerUrlTrust.effectiveUid() == 0 ? "" : ". A member of the server's group (who may read its data"
                        + " folder) is not its user: run the command as that user (sudo -u buildhook …) or give --url"),
                ExitCodes.UNAVAILABLE);
    }

    /**
     * When the configuration's {@code data-dir} is the default {@code ./data} of the working directory: a sentence
     * part saying so (run from elsewhere, the path looks right yet is not the server's, tryout21 F8.5); else empty.
     */
    private static String relativeDataDir(BuildhookConfig loaded) {
        Path cwd = Path.of("").toAbsolutePath();
        return isDefaultDataDir(loaded) ? ", whose " + DEFAULT_DATA_DIR + cwd + "), not to the configuration's"
                + " folder. " + DATA_DIR_ADVICE : "";
    }

    /** The words {@code jobs} and {@code check} say of a data-dir that is the working directory's ./data. */
    static final String DEFAULT_DATA_DIR = "data-dir is the default ./data: relative to the working directory (";
    static final String DATA_DIR_ADVICE = "Run this command from the folder 'serve' ran in, or give data-dir an"
            + " absolute path in the configuration";

    /**
     * The configuration file that names {@code loaded}'s data folder, null when none does (no configuration file, or
     * one that writes no {@code data-dir}: the working directory's {@code ./data}): root trusts the data folder's owner
     * only for one so named (review49 F3: {@code cd /home/mallory/proj && sudo buildhook jobs} read mallory's ./data).
     */
    private static Path namedBy(BuildhookConfig loaded) {
        return loaded.source() == null || isDefaultDataDir(loaded) ? null : loaded.source();
    }

    /**
     * Whether {@code loaded}'s data-dir is the default, the working directory's {@code ./data}: its configuration
     * writes no {@code data-dir}. A file that writes one names its folder, even the working directory's {@code ./data}
     * (tryout50 F1: {@code data-dir: /srv/a/data} run from {@code /srv/a} was told to give data-dir an absolute path);
     * a relative one is the file's folder's.
     */
    static boolean isDefaultDataDir(BuildhookConfig loaded) {
        return !loaded.dataDirNamed();
    }

    /**
     * The {@code runner.log-dir} of the configuration these options name (or that {@code serve} finds), where a node
     * writes its jobs' logs; empty when no configuration can be read.
     */
    java.util.Optional<Path> logDirectory() {
        try {
            return java.util.Optional.of(Configs.readForAdmin(config, "runner.log-dir").launcher().logDirectory().toAbsolutePath());
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    private void note(String note) {
        if (!noted && command != null) {
            noted = true;
            java.io.PrintWriter err = command.commandLine().getErr();
            err.println("[buildhook] " + note);
            err.flush();
        }
    }

    /**
     * The address {@link #defaultUrl} makes of {@code s} when the configuration names one ({@code server.host},
     * {@code server.port} or {@code server.context-path} set in its file); empty for the embedded default.
     */
    static java.util.Optional<URI> configuredUrl(ServerSettings s) {
        return s.addressNamed() ? java.util.Optional.of(defaultUrl(s)) : java.util.Optional.empty();
    }

    /** Where {@code s} makes the server listen, as a client reaches it: {@code 0.0.0.0} and {@code ::} as localhost. */
    static URI defaultUrl(ServerSettings s) {
        String host = s.host() == null || s.host().equals("0.0.0.0") || s.host().equals("::") ? "localhost" : s.host();
        String path = s.contextPath() == null || s.contextPath().isEmpty() ? "/"
                : s.contextPath().endsWith("/") ? s.contextPath() : s.contextPath() + "/";
        return URI.create((s.keystore() != null ? "https" : "http") + "://" + host + ":" + s.port() + path);
    }

    private String token(BuildhookConfig loaded, Map<String, String> environment) {
        if (tokenEnv != null) {
            String value = environment.get(tokenEnv);
            if (value == null || value.isBlank()) {
                throw new CommandFailure("the environment variable " + tokenEnv + " is not set or empty; export the "
                        + "admin token in it, or use --token-file", ExitCodes.UNAVAILABLE);
            }
            return value.strip();
        }
        if (tokenFile == null && loaded.admin().clientToken() != null) {
            // admin.token: {file: …}, {env: …} or {value: …}, read as the server reads it.
            return loaded.admin().clientToken().strip();
        }
        Path file = tokenFile != null ? tokenFile : loaded.dataDir().resolve("admin-token");
        if (tokenFile == null && !Files.isReadable(file)) {
            // Said with the configuration it came from: on a systemd host a command run without the unit's
            // --config reads the installation's conf/buildhook.yaml, whose ./data is the working directory's
            // (tryout15 F2), and the operator saw only a path they never configured.
            String from = loaded.source() == null ? "the embedded defaults" : loaded.source().toString();
            // The default data-dir is the working directory's ./data, not the configuration's folder's: run
            // from elsewhere (cd / && bin/buildhook jobs), the path looks right yet is not the server's (tryout21 F8.5).
            String relative = relativeDataDir(loaded);
            throw new CommandFailure("no admin token: " + file + " is not readable (the admin-token in the data folder of "
                    + from + relative + "). A server started with --config FILE (as the systemd unit is) is asked with the same"
                    + " --config, by a user who may read its data folder (sudo -u buildhook … --config"
                    + " /etc/buildhook/buildhook.yaml); or give --token-file FILE or --token-env NAME (the server's"
                    + " admin.token)", ExitCodes.UNAVAILABLE);
        }
        try {
            return BoundedFile.readString(file, BoundedFile.SECRET_FILE_BYTES).strip();
        } catch (FileTooLargeException e) {
            throw new CommandFailure("cannot read the admin token file " + file + ": " + e.getMessage() + "; check that "
                    + (tokenFile != null ? "--token-file names" : "it is") + " the file that holds the server's admin"
                    + " token", ExitCodes.UNAVAILABLE);
        } catch (IOException e) {
            throw new CommandFailure("cannot read the admin token file " + file + ": " + IoProblems.describe(e)
                    + "; check the path and that this user may read it", ExitCodes.UNAVAILABLE);
        }
    }
}
