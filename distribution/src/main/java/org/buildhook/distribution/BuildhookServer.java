package org.buildhook.distribution;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.buildhook.servlet.BuildhookApplication;
import org.buildhook.servlet.config.HttpSettings;
import org.buildhook.servlet.config.ServerSettings;
import org.buildhook.servlet.ErrorBody;
import org.eclipse.jetty.ee10.servlet.ErrorPageErrorHandler;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.server.handler.MinimumDataRateHandler;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standalone server: embedded Jetty 12 (ee10) serving the same listener and servlets as the
 * WAR. Built apart from {@code main} so tests start it on port 0.
 */
public final class BuildhookServer implements AutoCloseable {

    private final Server server;
    private final ServerConnector connector;
    /**
     * The least rate, in bytes per second over the request so far, at which a body must arrive:
     * a real sender is thousands of times faster, a client trickling its body to hold a
     * connection is cut at once instead of at the request deadline.
     */
    public static final long MIN_BODY_RATE = 1024;

    private static final Logger LOG = LoggerFactory.getLogger(BuildhookServer.class);
    /** How much longer than {@code server.request-timeout} one wait for a request's next bytes may take. */
    static final Duration IDLE_AFTER_DEADLINE = Duration.ofSeconds(1);

    private final ServletContextHandler context;
    /** Refuses requests once Jetty's stop began; counts the answers of jobs' logs under way. */
    private final StopRefusingHandler stopping;
    private final boolean tls;
    private final AtomicReference<Thread> shutdownHook = new AtomicReference<>();
    /** The socket the service manager handed over ({@link InheritedSocket}), or empty when Jetty binds its own. */
    private final Optional<InetSocketAddress> inherited;

    private BuildhookServer(Server server, ServerConnector connector, ServletContextHandler context,
            StopRefusingHandler stopping, boolean tls, Optional<InetSocketAddress> inherited) {
        this.server = server;
        this.connector = connector;
        this.context = context;
        this.stopping = stopping;
        this.tls = tls;
        this.inherited = inherited;
    }

    /**
     * Builds (does not start) a server.
     *
     * @param settings  where and how to listen
     * @param installer adds the application (listener, servlets, init-params) to the context
     */
    public static BuildhookServer create(ServerSettings settings, Consumer<ServletContextHandler> installer) {
        QueuedThreadPool pool = new QueuedThreadPool(settings.maxThreads(), settings.minThreads());
        pool.setName("buildhook-http");
        Server server = new Server(pool);

        HttpConfiguration http = new HttpConfiguration();
        http.setSendServerVersion(false);
        http.setSendXPoweredBy(false);
        // Bounds each blocking read of a request: a client that sends headers and stops, or
        // trickles its body, cannot hold a thread longer than this. A second after the webhook body's
        // own deadline (the same setting, from the end of the headers), so that a stalled body is
        // answered 408 by that deadline rather than raced by this timeout, which had Jetty log a line of
        // its own per stalled client.
        http.setIdleTimeout(settings.requestTimeout().plus(IDLE_AFTER_DEADLINE).toMillis());
        // "//webhook" is a wrong path like any other: let it reach the application, which answers 404
        // saying where webhooks go, logs and counts it (Jetty would refuse it as ambiguous, unlogged).
        http.setUriCompliance(UriCompliance.DEFAULT.with("buildhook",
                UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT));

        ServerConnector connector;
        boolean tls = settings.keystore() != null;
        if (tls) {
            SslContextFactory.Server ssl = new SslContextFactory.Server();
            ssl.setKeyStorePath(settings.keystore().toString());
            if (settings.keystorePassword() != null) {
                ssl.setKeyStorePassword(new String(settings.keystorePassword()));
            }
            http.setSecureScheme("https");
            http.addCustomizer(new SecureRequestCustomizer());
            connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
                    new HttpConnectionFactory(http));
        } else {
            connector = new ServerConnector(server, new HttpConnectionFactory(http));
        }
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        // Socket activation (buildhook.socket): Jetty takes System.inheritedChannel() instead of binding. Only
        // when it is a listening TCP socket, so that an ordinary start never logs Jetty's "Unable to use".
        Optional<InetSocketAddress> inherited = InheritedSocket.listening();
        inherited.ifPresent(address -> {
            connector.setInheritChannel(true);
            LOG.info("listening on the socket inherited from the service manager (socket activation, e.g."
                    + " buildhook.socket), {}: server.host and server.port ({}:{}) are not used; a restart keeps"
                    + " it open, so deliveries sent meanwhile wait for this server instead of being refused",
                    address, settings.host() == null ? "*" : settings.host(), settings.port());
        });
        connector.setIdleTimeout(settings.idleTimeout().toMillis());
        server.addConnector(connector);

        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath(settings.contextPath());
        installer.accept(context);
        // As the WAR's web.xml: errors inside the application go to its JSON error page; Jetty's own
        // refusals (bad request line, ambiguous path) get the same JSON from the server's handler.
        ErrorPageErrorHandler errors = new ErrorPageErrorHandler();
        errors.addErrorPage(ErrorPageErrorHandler.GLOBAL_ERROR_PAGE, ErrorBody.ERROR_PAGE);
        context.setErrorHandler(errors);
        server.setErrorHandler(new JsonErrorHandler(settings.contextPath()));
        server.setDefaultHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                Response.writeError(request, response, callback, 404);
                return true;
            }
        });

        // Requests in flight finish before the context (and with it the job runner) stops. A body
        // sent slower than MIN_BODY_RATE fails its read (the webhook servlet then ends the request).
        // A request on an open connection after that (Jetty's own stop has begun) is answered 503 "the server
        // is stopping" with Retry-After (tryout38 F5).
        StopRefusingHandler stopping = new StopRefusingHandler(new MinimumDataRateHandler(context, MIN_BODY_RATE, 0),
                settings.contextPath(), () -> retryAfter(context));
        server.setHandler(stopping);
        server.setStopTimeout(settings.stopTimeout().toMillis());
        return new BuildhookServer(server, connector, context, stopping, tls, inherited);
    }

    /** The running application's {@code http.retry-after}, or its default when there is none (any more). */
    private static Duration retryAfter(ServletContextHandler context) {
        try {
            Object app = context.getServletContext().getAttribute(BuildhookApplication.ATTRIBUTE);
            if (app instanceof BuildhookApplication running) {
                return running.config().http().retryAfter();
            }
        } catch (RuntimeException e) {
            // the context is going away: the default is as good an answer
        }
        return HttpSettings.DEFAULT_RETRY_AFTER;
    }

    /** Starts listening; throws when the port is taken or the application fails to start. */
    public void start() throws Exception {
        // A listener that throws (bad configuration) makes start() throw; a context that failed
        // quietly must not leave a server listening without its application.
        server.start();
        if (context.isFailed() || !context.isAvailable()) {
            server.stop();
            throw new IllegalStateException("buildhook failed to start; see the errors logged above");
        }
    }

    /**
     * Stops on SIGTERM / SIGINT / SIGHUP too (a JVM shutdown hook), gracefully, with {@link
     * #drainThenStop()}.
     */
    public void stopAtShutdown() {
        stopAtShutdown(() -> {
        });
    }

    /**
     * As {@link #stopAtShutdown()}, then runs {@code afterStop} in the same shutdown hook once the server
     * has stopped (it may end the process, {@link ExitArchive}).
     */
    public void stopAtShutdown(Runnable afterStop) {
        stopAtShutdown(() -> {
        }, afterStop);
    }

    /**
     * As {@link #stopAtShutdown(Runnable)}, and runs {@code beforeStop} first in that hook, as the graceful stop
     * begins (it tells systemd, {@link SystemdNotify#stopping}); it must not throw.
     */
    public void stopAtShutdown(Runnable beforeStop, Runnable afterStop) {
        Thread hook = new Thread(() -> {
            beforeStop.run();
            drainThenStop();
            afterStop.run();
        }, "buildhook-shutdown");
        if (shutdownHook.compareAndSet(null, hook)) {
            Runtime.getRuntime().addShutdownHook(hook);
        }
    }

    /**
     * The graceful stop. First the application drains while the port stays open: deliveries are
     * still verified, stored and answered, {@code /healthz} answers 503 "stopping", no new job starts
     * and running jobs get {@code runner.shutdown-grace}; then the log follows the drain ended send the rest
     * of their logs and their last lines, within {@code server.stop-timeout}. Only then does Jetty stop: the
     * listener closes, requests in flight get what is left of {@code server.stop-timeout}, and the
     * application closes its store.
     * Closing the listener first, as Jetty alone would, refused every delivery for the whole grace
     * period, much longer than JobServ retries (about 7 s).
     */
    public void drainThenStop() {
        Object app = context.getServletContext().getAttribute(BuildhookApplication.ATTRIBUTE);
        if (app instanceof BuildhookApplication running) {
            running.drain();
            // The follows of jobs' logs the drain ended send their last lines first, within server.stop-timeout, and
            // Jetty's stop gets what is left of it: that stop cuts a connection whose write makes no progress for a
            // second (Jetty's shutdown idle timeout), and a follow still writing its last lines as it began (a loaded
            // machine, a slow client) lost the job's state line, or the stop's line too, with the answer's end
            // (FollowDuringGracefulStopTest under load; flaky57).
            long began = System.nanoTime();
            stopping.awaitLogsAnswered(Duration.ofMillis(server.getStopTimeout()));
            long spent = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began);
            server.setStopTimeout(Math.max(1, server.getStopTimeout() - spent));
        }
        try {
            server.stop();
        } catch (Exception e) {
            LOG.warn("while stopping the HTTP server: {}", e.toString());
        }
    }

    /** The Jetty server, for tests that watch or tune its stop. */
    Server jetty() {
        return server;
    }

    public int port() {
        return connector.getLocalPort();
    }

    /**
     * Whether the server listens on every interface of its host ({@code server.host} {@code 0.0.0.0} or {@code ::},
     * the default; an inherited socket bound to the wildcard address), and so answers from the network, not only at
     * the {@code localhost} of {@link #uri()}.
     */
    public boolean listensOnEveryInterface() {
        if (inherited.isPresent()) {
            java.net.InetAddress ip = inherited.get().getAddress();
            return ip == null || ip.isAnyLocalAddress();
        }
        String host = connector.getHost();
        return host == null || literal(host).map(java.net.InetAddress::isAnyLocalAddress).orElse(false);
    }

    /**
     * {@code host} as an address when it is an IP literal ({@code 0.0.0.0}, {@code ::}, {@code 0:0:0:0:0:0:0:0},
     * {@code [::1]}); empty for a host name, which is never looked up here.
     */
    private static java.util.Optional<java.net.InetAddress> literal(String host) {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!bare.contains(":") && !bare.matches("[0-9.]+")) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(java.net.InetAddress.getByName(bare)); // a literal: no name service asked
        } catch (java.net.UnknownHostException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * The base URL, e.g. {@code http://127.0.0.1:8080/}; {@code localhost} for a server that listens on every
     * interface ({@link #listensOnEveryInterface()}).
     */
    public URI uri() {
        String configured = connector.getHost();
        String host = inherited.map(InheritedSocket::urlHost).orElseGet(() -> listensOnEveryInterface() ? "localhost"
                // An IPv6 address as written, in brackets: "http://::1:8080/" is no URL.
                : configured.contains(":") && !configured.startsWith("[") ? "[" + configured + "]" : configured);
        String path = context.getContextPath().endsWith("/") ? context.getContextPath()
                : context.getContextPath() + "/";
        return URI.create((tls ? "https" : "http") + "://" + host + ":" + port() + path);
    }

    public void join() throws InterruptedException {
        server.join();
    }

    @Override
    public void close() throws Exception {
        Thread hook = shutdownHook.getAndSet(null);
        if (hook != null) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is already shutting down: the hook stops the server
            }
        }
        server.stop();
    }
}
