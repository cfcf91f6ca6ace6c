package org.buildhook.servlet.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * How the standalone server listens: the {@code server:} section of {@code buildhook.yaml}.
 *
 * @param host           the address to bind ({@code 0.0.0.0} for all, the default)
 * @param port           the port, 0 for any free one (tests); default 8080
 * @param contextPath    where the application is mounted; default {@code /}
 * @param keystore       a PKCS12/JKS keystore to serve HTTPS, or {@code null} for plain HTTP
 * @param keystorePassword the keystore's password (read from a file), or {@code null}
 * @param idleTimeout    how long an idle connection is kept (also bounds a client that stops mid-request)
 * @param requestTimeout how long reading one request may take before the connection is dropped
 * @param minThreads     the request thread pool's minimum
 * @param maxThreads     the request thread pool's maximum
 * @param stopTimeout    how long a graceful stop waits for requests in flight
 * @param addressNamed   whether the configuration file sets {@code server.host}, {@code server.port} or {@code
 *                       server.context-path} (to a value, not null): the operator said where the server listens. The
 *                       admin commands send the admin token to the address these settings make only then, or when a
 *                       running server wrote it into {@code <data-dir>/server-url}; false for the embedded defaults
 */
public record ServerSettings(
        String host,
        int port,
        String contextPath,
        Path keystore,
        char[] keystorePassword,
        Duration idleTimeout,
        Duration requestTimeout,
        int minThreads,
        int maxThreads,
        Duration stopTimeout,
        boolean addressNamed) {

    public ServerSettings {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        if (!contextPath.equals("/") && (!contextPath.startsWith("/") || contextPath.endsWith("/"))) {
            throw new IllegalArgumentException("context path must be / or start with / and not end with /: " + contextPath);
        }
        if (minThreads < 1 || maxThreads < minThreads) {
            throw new IllegalArgumentException("threads: need 1 <= min <= max, got " + minThreads + ".." + maxThreads);
        }
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(requestTimeout, "requestTimeout");
        Objects.requireNonNull(stopTimeout, "stopTimeout");
    }

    /** As the canonical constructor, with an address the configuration does not name ({@code addressNamed} false). */
    public ServerSettings(String host, int port, String contextPath, Path keystore, char[] keystorePassword,
            Duration idleTimeout, Duration requestTimeout, int minThreads, int maxThreads, Duration stopTimeout) {
        this(host, port, contextPath, keystore, keystorePassword, idleTimeout, requestTimeout, minThreads, maxThreads,
                stopTimeout, false);
    }

    /** The embedded defaults: every address, port 8080, mounted at /, plain HTTP. */
    public static ServerSettings defaults() {
        return new ServerSettings("0.0.0.0", 8080, "/", null, null, Duration.ofSeconds(30), Duration.ofSeconds(30),
                4, 64, Duration.ofSeconds(30));
    }

    public ServerSettings withPort(int newPort) {
        return new ServerSettings(host, newPort, contextPath, keystore, keystorePassword, idleTimeout, requestTimeout,
                minThreads, maxThreads, stopTimeout, addressNamed);
    }

    @Override
    public String toString() {
        // Never print the keystore password.
        return "ServerSettings[host=" + host + ", port=" + port + ", contextPath=" + contextPath + ", tls="
                + (keystore != null) + "]";
    }
}
