package org.buildhook.distribution;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.buildhook.servlet.BuildhookListener;
import org.buildhook.servlet.Routes;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ServerSettings;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code buildhook serve}: the standalone server on embedded Jetty, until SIGTERM or Ctrl-C. */
@Command(
        name = "serve",
        mixinStandardHelpOptions = true,
        description = {
            // One paragraph each, wrapped by picocli at the help's width: lines broken here would be cut there.
            "Run the server: receive webhooks, store them, run the rules' jobs.",
            "Without --config it uses $BUILDHOOK_CONFIG when set, else conf/buildhook.yaml of the installation"
                    + " (the shipped configuration: port 8080, SQLite under ./data, the sample rules, a generated admin"
                    + " token); with no file at all, the embedded defaults (the same without rules and admin API).",
            "SIGTERM or Ctrl-C stops it gracefully: running jobs get their grace period while deliveries are"
                    + " still stored (their jobs run after the next start), then the port closes. SIGHUP stops it too"
                    + " (exit 129; under systemd Restart=on-failure starts it again): it is not a reload.",
            "To reload the rules, save the rules file: the server loads it again by itself within seconds (check it"
                    + " first with 'buildhook check'; a file with mistakes is refused, logged and shown on the status"
                    + " page, and the rules before stay in force). buildhook.yaml is read at start only: a change to it"
                    + " needs a restart (systemctl restart buildhook): JobServ retries for about 7 s while the port is"
                    + " closed, or waits for the new server when buildhook.socket holds the port (docs/deploying.md)."
        },
        footer = {
            "",
            "Examples:",
            "  buildhook serve",
            "  buildhook serve --config /etc/buildhook/buildhook.yaml",
            "  buildhook serve --port 9090 --host 127.0.0.1",
            "",
            ExitCodes.SERVE
        })
final class ServeCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "buildhook.yaml to use.")
    Path config;

    @Option(names = "--host", paramLabel = "ADDRESS", description = "Listen on this address (overrides server.host).")
    String host;

    @Option(names = "--port", paramLabel = "PORT", description = "Listen on this port, 0 for any free one (overrides server.port).")
    Integer port;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (port != null && (port < 0 || port > 65535)) {
            throw new CommandFailure("--port: must be between 0 and 65535 (0 picks any free port), got " + port,
                    ExitCodes.USAGE);
        }
        BuildhookConfig loaded = Configs.load(config);
        BuildhookConfig effective = withListenFlags(loaded);
        ServerSettings settings = effective.server();
        java.util.concurrent.atomic.AtomicReference<ServletContextHandler> installed =
                new java.util.concurrent.atomic.AtomicReference<>();
        BuildhookServer server = BuildhookServer.create(settings, context -> {
            install(context, effective);
            installed.set(context);
        });
        try {
            server.start();
        } catch (Exception e) {
            // A taken port fails before the application runs, a store that does not answer while it
            // starts: either way no secret file was written (the application writes them once nothing
            // can refuse it, and announces them then), so there is none to tell of (tryout13 F6).
            throw new CommandFailure("cannot start: " + whyNotStarted(e, settings), ExitCodes.UNAVAILABLE);
        }
        // A class-data archive that cannot be written at the exit would end a clean stop with status 1.
        // server-url (written below) is removed, or names another server of the data folder that runs, once the port has
        // closed, before a stop that ends the process itself.
        server.stopAtShutdown(SystemdNotify::stopping, () -> {
            ServerUrlFile.leave();
            StopSignals.stopStatus().ifPresent(ExitArchive::skipIfUnwritable);
        });
        ExitArchive.prepare();
        StopSignals.logWhenStopped();
        java.util.List<java.net.URI> sharing = ServerUrlFile.write(effective.dataDir(), server.uri());
        out.println(listening(server, effective));
        out.println("  endpoints: " + effective.endpoints().keySet());
        out.println("  rules:     " + (effective.rulesFile() == null ? "(none configured)" : effective.rulesFile()));
        out.println("  data:      " + effective.dataDir().toAbsolutePath());
        insideInstallation(effective.dataDir(), System.getProperty("buildhook.home")).ifPresent(
                warning -> out.println("  warning:   " + warning));
        // Nodes of one PostgreSQL store started from one configuration share the data folder (tryout41 F5).
        if (!sharing.isEmpty()) {
            out.println("  shared:    " + (sharing.size() == 1 ? "another server runs on this data folder, at "
                    + sharing.get(0) : sharing.size() + " other servers run on this data folder, the newest at "
                    + sharing.get(0)) + ": its server-url names this server now, and that one again once this one"
                    + " stops (the admin commands without --url ask the server it names)");
        }
        out.println("  config:    " + (effective.source() == null ? "(embedded defaults)" : effective.source()));
        out.println("  build:     " + org.buildhook.servlet.BuildInfo.describe());
        // A node that cannot write a folder its jobs need is paused from its start (final18 F1): said where
        // the operator looks first, not only in a WARN above (tryout19 F9).
        jobsPaused(installed.get()).ifPresent(why -> out.println("  jobs:      none start now: "
                + why.replaceFirst("^jobs do not start on this node: ", "") + "; they start once it can"));
        out.flush();
        // Type=notify: systemctl start returns now, with the port listening, the engine started and
        // server-url (which the commands read) written.
        SystemdNotify.ready();
        server.join();
        return ExitCodes.OK;
    }

    /**
     * A warning when the data folder {@code dataDir} is inside the installation folder {@code home} (the tarball's
     * walk-through run from the unpacked folder, with the shipped relative {@code data-dir: data}): an upgrade unpacks
     * the next version into a folder of its own, which starts with an empty store and a new webhook secret, so every
     * JobServ delivery is answered {@code 401} (tryout47b F14). Empty when it is not, or without a known installation.
     */
    static java.util.Optional<String> insideInstallation(Path dataDir, String home) {
        if (home == null || home.isBlank()) {
            return java.util.Optional.empty();
        }
        Path install = Path.of(home).toAbsolutePath().normalize();
        Path data = dataDir.toAbsolutePath().normalize();
        if (!data.startsWith(install)) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("the data folder is inside the installation folder " + install + ": the next"
                + " version, unpacked into a folder of its own, starts with an empty store and a new webhook secret"
                + " (every JobServ delivery then answered 401). For a lasting install give data-dir a folder of its"
                + " own, e.g. /var/lib/buildhook (docs/deploying.md)");
    }

    /** Why the application in {@code context} starts no jobs now, or empty (also when it is not there). */
    private static java.util.Optional<String> jobsPaused(ServletContextHandler context) {
        Object app = context == null ? null
                : context.getServletContext().getAttribute(org.buildhook.servlet.BuildhookApplication.ATTRIBUTE);
        return app instanceof org.buildhook.servlet.BuildhookApplication running ? running.jobsPaused()
                : java.util.Optional.empty();
    }

    /**
     * The banner's first line: where the server listens and where JobServ posts. A server on every interface (the
     * default {@code server.host} {@code 0.0.0.0}) says so, and the URL that reaches it from this host: "listening on
     * http://localhost:8080/" alone read as local-only, while the admin API and the status page answered from the
     * network (tryout46 F1).
     */
    static String listening(BuildhookServer server, BuildhookConfig config) {
        java.net.URI uri = server.uri();
        return server.listensOnEveryInterface()
                ? "buildhook listening on all interfaces, port " + server.port() + " (from this host: " + uri + "; POST "
                        + webhookUrls(uri, config) + ")"
                : "buildhook listening on " + uri + " (POST " + webhookUrls(uri, config) + ")";
    }

    /**
     * Where JobServ posts: {@code <base>webhook} when there is an endpoint {@code default} (plain
     * {@code /webhook} is that endpoint), else {@code <base>webhook/<name>} of each endpoint, since a
     * plain {@code /webhook} is answered 404 then.
     */
    static String webhookUrls(java.net.URI base, BuildhookConfig config) {
        if (config.endpoints().containsKey("default")) {
            return base + "webhook";
        }
        return config.endpoints().keySet().stream().map(name -> base + "webhook/" + name)
                .collect(java.util.stream.Collectors.joining(", "));
    }

    /** The configuration with {@code --host} and {@code --port} applied over its {@code server:} section. */
    private BuildhookConfig withListenFlags(BuildhookConfig c) {
        ServerSettings s = c.server();
        ServerSettings flagged = new ServerSettings(host != null ? host : s.host(), port != null ? port : s.port(),
                s.contextPath(), s.keystore(), s.keystorePassword(), s.idleTimeout(), s.requestTimeout(),
                s.minThreads(), s.maxThreads(), s.stopTimeout(), s.addressNamed());
        return c.withServer(flagged);
    }

    /** The same listener and servlets as the WAR's web.xml. */
    static void install(ServletContextHandler context, BuildhookConfig config) {
        context.setAttribute(BuildhookListener.CONFIG_ATTRIBUTE, config);
        // call() says why a start failed, once, as "buildhook: cannot start: …".
        context.setAttribute(BuildhookListener.FAILED_START_REPORTED, Boolean.TRUE);
        context.addEventListener(new BuildhookListener());
        for (Routes.Route route : Routes.ALL) {
            for (String pattern : route.patterns()) {
                context.addServlet(route.servlet(), pattern).setAsyncSupported(route.async());
            }
        }
    }

    /**
     * Names the address and what to change when the port is taken; otherwise what buildhook said
     * (the message {@link BuildhookListener} gave, e.g. which store file it could not create),
     * followed by the root cause's message when that adds something (e.g. PostgreSQL's reason).
     */
    private static String whyNotStarted(Throwable e, ServerSettings settings) {
        String said = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String address = (settings.host() == null ? "" : settings.host()) + ":" + settings.port();
            if (t instanceof java.nio.channels.UnresolvedAddressException) {
                return "cannot listen on " + address + ": '" + settings.host() + "' is neither an IP address nor a"
                        + " host name this machine can resolve; set --host or server.host to an address of this"
                        + " machine, like 0.0.0.0 (every address) or 127.0.0.1 (this machine only)";
            }
            if (t instanceof java.net.BindException && !isAddressOfThisMachine(settings.host())) {
                return "cannot listen on " + address + " (" + t.getMessage() + "): '" + settings.host() + "' is not"
                        + " an address of this machine; set --host or server.host to one of its addresses, or"
                        + " 0.0.0.0 (every address)";
            }
            if (t instanceof java.net.BindException) {
                return "cannot listen on " + address
                        + " (" + t.getMessage() + "): another program (or another buildhook) has it;"
                        + " choose another port with --port N or server.port in the configuration";
            }
            if (said == null && t.getMessage() != null && t.getMessage().startsWith(BuildhookListener.CANNOT_START)) {
                said = t.getMessage().substring(BuildhookListener.CANNOT_START.length());
            }
        }
        String root = rootMessage(e);
        if (said == null || said.isBlank()) {
            return root;
        }
        // The store's messages quote the driver's sentences without their full stop.
        return said.contains(root) || said.contains(root.strip().replaceFirst("\\.$", "")) || quotesACause(said, e)
                ? said : said + ": " + root;
    }

    /**
     * Whether {@code said} already quotes the message of the exception that wraps the root cause (the
     * PostgreSQL driver's "Connection to … refused", its full stop left out): the root cause
     * ("Connection refused") would only say it again.
     */
    private static boolean quotesACause(String said, Throwable e) {
        Throwable parent = null;
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            parent = t;
            t = t.getCause();
        }
        if (parent == null || parent.getMessage() == null) {
            return false;
        }
        String message = parent.getMessage().strip().replaceFirst("\\.$", "");
        return message.length() > 10 && said.contains(message);
    }

    /**
     * Whether {@code host} is an address this machine can listen on: every address ({@code 0.0.0.0},
     * none given), a loopback address, or one of its network interfaces'. A bind that fails on such an
     * address failed because the port is taken ({@code EADDRINUSE}); on another, because the machine
     * does not have it ({@code EADDRNOTAVAIL}). Asked of the interfaces rather than read from the
     * exception's message, which is the C library's {@code strerror} text and follows the locale.
     */
    private static boolean isAddressOfThisMachine(String host) {
        if (host == null || host.isBlank()) {
            return true;
        }
        try {
            java.net.InetAddress address = java.net.InetAddress.getByName(host);
            return address.isAnyLocalAddress() || address.isLoopbackAddress()
                    || java.net.NetworkInterface.getByInetAddress(address) != null;
        } catch (java.io.IOException e) {
            return true; // not known to be foreign: blame the port, as before
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
