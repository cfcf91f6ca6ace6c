package org.buildhook.servlet.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.buildhook.runner.rules.YamlNode;

/** Reads the {@code server:} section (the standalone server's listener), recording every mistake. */
final class ServerReader {

    private final Nodes nodes;
    private final SecretReader secrets;
    private final Path baseDir;
    /** Where a server.host this machine cannot resolve now is warned about; {@code null}: it is not looked up. */
    private final Warnings hostWarnings;
    private final boolean checksKeystore;

    /**
     * @param hostWarnings {@code null}, or where to warn about a {@code server.host} this machine cannot
     *                     resolve now; then a value that cannot be an address at all is a mistake too
     * @param checksKeystore whether {@code server.tls.keystore} must be a file that is there (not for the admin
     *                     commands, which only need to know the server speaks HTTPS)
     */
    ServerReader(Nodes nodes, SecretReader secrets, Path baseDir, Warnings hostWarnings, boolean checksKeystore) {
        this.checksKeystore = checksKeystore;
        this.nodes = nodes;
        this.secrets = secrets;
        this.baseDir = baseDir;
        this.hostWarnings = hostWarnings;
    }

    ServerSettings read(Map<String, YamlNode.Entry> s) {
        ServerSettings d = ServerSettings.defaults();
        String host = s.containsKey("host") ? nodes.text(s.get("host").value(), "server.host").orElse(d.host()) : d.host();
        if (hostWarnings != null && s.containsKey("host") && host != null && !host.isBlank()) {
            listenable(host.trim(), s.get("host").value().location());
        }
        int port = s.containsKey("port") ? nodes.integer(s.get("port").value(), "server.port").orElse(d.port()) : d.port();
        String contextPath = s.containsKey("context-path") ? contextPath(s.get("context-path").value()) : d.contextPath();
        Duration idle = duration(s, "idle-timeout", d.idleTimeout());
        Duration request = duration(s, "request-timeout", d.requestTimeout());
        Duration stop = duration(s, "stop-timeout", d.stopTimeout());
        int[] threads = threads(s.get("threads"), d);
        Path keystore = null;
        char[] password = null;
        YamlNode.Entry tls = s.get("tls");
        if (tls != null && !Nodes.isNull(tls.value())) {
            Optional<YamlNode.Mapping> mapping = nodes.mapping(tls.value(), "server.tls");
            if (mapping.isPresent()) {
                nodes.onlyKeys(mapping.get(), ConfigKeys.TLS, "server.tls");
                Map<String, YamlNode.Entry> t = mapping.get().entries();
                keystore = keystore(t.get("keystore"), tls);
                if (t.containsKey("password")) {
                    password = secrets.read(t.get("password").value(), "server.tls.password").map(String::toCharArray).orElse(null);
                } else if (keystore != null) {
                    nodes.problem(tls.value().location(), "server.tls.password", "missing: the keystore's password"
                            + " opens it and its private key; add password: {file: PATH} (or {env: NAME})");
                }
                if (keystore != null && password != null && secrets.readsTheRealSecret("server.tls.password")) {
                    KeystoreCheck.problem(keystore, password).ifPresent(p -> {
                        YamlNode.Location at = (p.password() ? t.get("password") : t.get("keystore")).value().location();
                        String key = p.password() ? "server.tls.password" : "server.tls.keystore";
                        if (p.notRead()) {
                            nodes.notReadProblem(at, key, p.message());
                        } else {
                            nodes.problem(at, key, p.message());
                        }
                    });
                }
            }
        }
        // Said by the operator, not the embedded default: the admin commands may send the token there (tryout48 F7).
        boolean named = java.util.stream.Stream.of("host", "port", "context-path")
                .anyMatch(key -> s.containsKey(key) && !Nodes.isNull(s.get(key).value()));
        return new ServerSettings(host, port, contextPath, keystore, password, idle, request, threads[0], threads[1], stop,
                named);
    }

    /**
     * Whether serve could listen on {@code host}, in serve's words: a value that is no IP address and
     * no host name at all (four numbers not all 0 to 255, a URL, a space) is a mistake; a host name
     * this machine cannot resolve now only a warning, as serve resolves it again when it starts.
     */
    private void listenable(String host, YamlNode.Location at) {
        String what = "set server.host to an address of this machine, like 0.0.0.0 (every address) or 127.0.0.1"
                + " (this machine only)";
        String notAnAddress = notAnAddress(host);
        if (notAnAddress != null) {
            nodes.problem(at, "server.host", "'" + host + "' is neither an IP address nor a host name ("
                    + notAnAddress + "), so serve cannot listen on it; " + what);
            return;
        }
        try {
            java.net.InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            hostWarnings.add(at, "server.host", "'" + host + "' is neither an IP address nor a host name this machine"
                    + " can resolve now; serve looks it up when it starts and cannot start unless it resolves then"
                    + " (DNS or /etc/hosts of the machine it runs on); else " + what);
        }
    }

    /** Why {@code host} cannot be an IP address or a host name, or {@code null} when it may be one. */
    private static String notAnAddress(String host) {
        if (host.contains("/") || host.contains("@")) {
            return "a host, not a URL: no scheme, port or path";
        }
        if (host.contains(":")) {
            try {
                // Parsed as an IPv6 literal, never looked up: a mistake in it is said at once.
                java.net.InetAddress.getByName(host);
                return null;
            } catch (java.net.UnknownHostException e) {
                return "not an IPv6 address";
            }
        }
        if (host.matches("[0-9.]+")) {
            String[] parts = host.split("\\.", -1);
            for (String part : parts) {
                if (part.isEmpty() || parts.length == 4 && (part.length() > 3 || Integer.parseInt(part) > 255)) {
                    return "an IPv4 address is four numbers from 0 to 255, like 192.168.1.10";
                }
            }
            return parts.length > 4 ? "an IPv4 address is four numbers from 0 to 255, like 192.168.1.10" : null;
        }
        if (!host.matches("[A-Za-z0-9_.-]+") || host.startsWith(".") || host.contains("..")) {
            return "a host name is letters, digits, '-' and '.' only";
        }
        return null;
    }

    private Path keystore(YamlNode.Entry entry, YamlNode.Entry tls) {
        if (entry == null) {
            nodes.problem(tls.value().location(), "server.tls.keystore", "missing: name the PKCS12 keystore to serve HTTPS");
            return null;
        }
        Optional<String> name = nodes.text(entry.value(), "server.tls.keystore");
        if (name.isEmpty()) {
            return null;
        }
        Path file;
        try {
            file = baseDir.resolve(name.get()).normalize();
        } catch (java.nio.file.InvalidPathException e) {
            nodes.problem(entry.value().location(), "server.tls.keystore", "not a usable path: " + e.getReason());
            return null;
        }
        if (checksKeystore && !Files.isRegularFile(file)) {
            // Not there: a file a restart may find (a mount that comes later, fix55b); something else there: a mistake.
            String message = "keystore " + file + " " + Nodes.notAFile(file);
            if (Files.exists(file)) {
                nodes.problem(entry.value().location(), "server.tls.keystore", message);
            } else {
                nodes.notReadProblem(entry.value().location(), "server.tls.keystore", message);
            }
            return null;
        }
        return file;
    }

    private String contextPath(YamlNode node) {
        Optional<String> path = nodes.text(node, "server.context-path");
        if (path.isEmpty()) {
            return "/";
        }
        String p = path.get();
        if (!p.equals("/") && (!p.startsWith("/") || p.endsWith("/"))) {
            nodes.problem(node.location(), "server.context-path", "must be / or start with / and not end with /, like /buildhook; got '"
                    + p + "'");
            return "/";
        }
        return p;
    }

    private Duration duration(Map<String, YamlNode.Entry> s, String key, Duration fallback) {
        return s.containsKey(key) ? nodes.duration(s.get(key).value(), "server." + key).orElse(fallback) : fallback;
    }

    private int[] threads(YamlNode.Entry entry, ServerSettings d) {
        int[] out = {d.minThreads(), d.maxThreads()};
        if (entry == null || Nodes.isNull(entry.value())) {
            return out;
        }
        Optional<YamlNode.Mapping> mapping = nodes.mapping(entry.value(), "server.threads");
        if (mapping.isEmpty()) {
            return out;
        }
        nodes.onlyKeys(mapping.get(), ConfigKeys.THREADS, "server.threads");
        Map<String, YamlNode.Entry> t = mapping.get().entries();
        if (t.containsKey("min")) {
            out[0] = nodes.integer(t.get("min").value(), "server.threads.min").orElse(out[0]);
        }
        if (t.containsKey("max")) {
            out[1] = nodes.integer(t.get("max").value(), "server.threads.max").orElse(out[1]);
        }
        if (out[1] < out[0]) {
            nodes.problem(entry.value().location(), "server.threads", "max (" + out[1] + ") must be at least min (" + out[0] + ")");
            out[1] = out[0];
        }
        return out;
    }
}
