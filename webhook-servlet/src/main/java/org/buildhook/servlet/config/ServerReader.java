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

    ServerReader(Nodes nodes, SecretReader secrets, Path baseDir) {
        this.nodes = nodes;
        this.secrets = secrets;
        this.baseDir = baseDir;
    }

    ServerSettings read(Map<String, YamlNode.Entry> s) {
        ServerSettings d = ServerSettings.defaults();
        String host = s.containsKey("host") ? nodes.text(s.get("host").value(), "server.host").orElse(d.host()) : d.host();
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
                    KeystoreCheck.problem(keystore, password).ifPresent(p -> nodes.problem(
                            (p.password() ? t.get("password") : t.get("keystore")).value().location(),
                            p.password() ? "server.tls.password" : "server.tls.keystore", p.message()));
                }
            }
        }
        return new ServerSettings(host, port, contextPath, keystore, password, idle, request, threads[0], threads[1], stop);
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
        if (!Files.isRegularFile(file)) {
            nodes.problem(entry.value().location(), "server.tls.keystore", "keystore " + file + " " + Nodes.notAFile(file));
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
