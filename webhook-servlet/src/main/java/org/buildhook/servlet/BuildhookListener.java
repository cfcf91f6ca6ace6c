package org.buildhook.servlet;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.nio.file.Path;
import java.time.Duration;
import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Optional;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.buildhook.runner.store.NodeIdPending;
import org.buildhook.runner.store.StoreLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts buildhook with its web application and stops it (threads, child processes, database
 * connections) when the application is undeployed or the container stops. A configuration or
 * rules mistake makes the web application fail to start, with every mistake in the log, rather
 * than run half-configured.
 */
public final class BuildhookListener implements ServletContextListener {

    /** Context init-parameter naming the configuration file. */
    public static final String CONFIG_PARAM = "buildhook.config";
    /**
     * Context init-parameter, system property ({@code -Dbuildhook.defaults=true}) or, as {@code
     * BUILDHOOK_DEFAULTS}, environment variable that lets the WAR start on the embedded defaults when
     * it finds no configuration file. Without it such a WAR refuses to start.
     */
    public static final String DEFAULTS_PARAM = "buildhook.defaults";
    /** Context attribute through which an embedding server hands over an already loaded configuration. */
    public static final String CONFIG_ATTRIBUTE = BuildhookConfig.class.getName();
    /**
     * How the message of the exception {@link #contextInitialized} throws when buildhook cannot start
     * begins; the rest is the reason (e.g. the store file it could not create), which the standalone
     * server prints.
     */
    public static final String CANNOT_START = "buildhook cannot start: ";
    /**
     * Context attribute (any value) by which an embedding server says that it reports a start that
     * failed itself, as the standalone server does ({@code buildhook: cannot start: <reason>}, exit 3):
     * the listener then does not log the reason too, in a web application's words (tryout15 F8).
     */
    public static final String FAILED_START_REPORTED = "buildhook.failedStartReported";

    private static final Logger LOG = LoggerFactory.getLogger(BuildhookListener.class);

    /** Beyond {@code runner.shutdown-grace} and {@code runner.kill-grace}, how long a new copy waits for the previous one. */
    static final Duration WAIT_MARGIN = Duration.ofMinutes(2);

    /** The background start of a copy waiting for its previous copy ({@link #contextInitialized}); null if none. */
    private volatile Thread waiting;
    private volatile PreviousCopy pending;
    private volatile boolean destroyed;

    /**
     * Starts buildhook. When the SQLite store's lock, or on PostgreSQL this node's {@code runner.node-id}
     * ({@link NodeIdPending}), is held by another application of this same JVM (the previous copy of this web
     * application, which Jetty 12's deployer stops only after the new copy of a redeployed WAR has started),
     * the start goes on in the background once that copy lets it go (at most {@code runner.shutdown-grace} +
     * {@code runner.kill-grace} + {@link #WAIT_MARGIN}); meanwhile {@link WaitingFilter} answers 503 with
     * {@code Retry-After}. A lock or node id held by another process is refused, as before.
     *
     * @throws IllegalStateException when buildhook cannot start (the message begins with {@link #CANNOT_START})
     */
    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        try {
            BuildhookConfig config = configuration(context);
            java.util.concurrent.atomic.AtomicReference<PreviousCopy> held = new java.util.concurrent.atomic.AtomicReference<>();
            try {
                BuildhookApplication started = BuildhookApplication.start(config, store -> {
                    // Only a web application can meet a previous copy of itself in its JVM: the standalone server
                    // does not look (one connection less, and no second wait for a PostgreSQL that does not answer).
                    Optional<NodeIdPending> node = inWebApplication()
                            ? NodeIdPending.find(store, config.engine().nodeId()) : Optional.empty();
                    if (node.isPresent()) {
                        held.set(PreviousCopy.of(node.get(), store));
                        throw new PreviousCopyRunning();
                    }
                    StoreLock.Attempt attempt = StoreLock.attempt(store);
                    if (attempt.pending() != null) {
                        held.set(PreviousCopy.of(attempt.pending()));
                        throw new PreviousCopyRunning();
                    }
                    return attempt.lock();
                });
                context.setAttribute(BuildhookApplication.ATTRIBUTE, started);
                if (inWebApplication()) {
                    started.publishHandOver();
                }
            } catch (PreviousCopyRunning e) {
                awaitPreviousCopy(context, config, held.get());
            }
        } catch (RuntimeException e) {
            if (context.getAttribute(FAILED_START_REPORTED) == null) {
                LOG.error("buildhook cannot start, the web application {} is not available:\n{}",
                        context.getContextPath().isEmpty() ? "/" : context.getContextPath(), e.getMessage());
            }
            deregisterDrivers();
            throw new IllegalStateException(CANNOT_START + e.getMessage(), e);
        }
    }

    /** Whether this listener is a web application's (its own class loader), not the standalone server's. */
    private static boolean inWebApplication() {
        return BuildhookListener.class.getClassLoader() != ClassLoader.getSystemClassLoader();
    }

    /** Thrown through {@link BuildhookApplication#start} when the store's lock or node id is held by another copy in this JVM. */
    private static final class PreviousCopyRunning extends RuntimeException {
        private static final long serialVersionUID = 1L;

        PreviousCopyRunning() {
            super(null, null, false, false);
        }
    }

    /**
     * This copy answers 503 ({@link WaitingFilter}) while a thread of its own waits for the previous copy to
     * let the store's lock (or, on PostgreSQL, the node id) go, then starts buildhook as {@link
     * #contextInitialized} would have.
     */
    private void awaitPreviousCopy(ServletContext context, BuildhookConfig config, PreviousCopy held) {
        pending = held;
        Duration atMost = config.engine().shutdownGrace().plus(config.launcher().killGrace()).plus(WAIT_MARGIN);
        String path = context.getContextPath().isEmpty() ? "/" : context.getContextPath();
        // Deliveries meanwhile: verified with this copy's configuration, then stored by the previous copy.
        BuildhookMetrics unserved = BuildhookMetrics.create(config.endpoints().keySet(), false);
        DeliveryService deliveries = DeliveryService.waiting(BuildhookApplication.verifiers(config), unserved,
                java.time.Clock.systemUTC(), () -> DeliveryHandOver.find(config.store(), config.engine().nodeId()),
                () -> context.getAttribute(BuildhookApplication.ATTRIBUTE) instanceof BuildhookApplication app
                        ? app.deliveries() : null,
                "this copy of the web application " + path + " waits for its previous copy in this JVM to stop"
                        + " (a redeploy)");
        WaitingFilter filter = new WaitingFilter(config.http().retryAfter(), new WebhookServlet.Parts(config,
                deliveries, unserved, new RemoteAddress(config.http().trustedProxies())));
        jakarta.servlet.FilterRegistration.Dynamic registration = context.addFilter("buildhook-waiting", filter);
        // Passed on, once started, to servlets that read bodies and follow logs asynchronously.
        registration.setAsyncSupported(true);
        registration.addMappingForUrlPatterns(null, false, "/*");
        LOG.warn("{} by the previous copy of the web application {} in this JVM{} (the container started this copy"
                + " before stopping that one, as Jetty 12 does when a WAR is replaced): this copy starts once that one"
                + " has stopped, waiting up to {} s (runner.shutdown-grace + runner.kill-grace + {} s); until then"
                + " deliveries are verified here and stored by the previous copy while its store is open (any other"
                + " request, and a delivery it cannot take, is answered 503 with Retry-After)", held.held(), path,
                held.holder(), atMost.toSeconds(), WAIT_MARGIN.toSeconds());
        Thread thread = new Thread(() -> {
            try {
                StoreLock lock = held.await(atMost);
                if (destroyed) {
                    lock.close();
                    return;
                }
                LOG.info("the previous copy of the web application {} has stopped: this copy starts", path);
                // The builds refused while waiting (the gap between the previous copy's store closing and this
                // start) stay listed to re-send: this copy keeps the list it began (war31 L).
                BuildhookApplication app = BuildhookApplication.start(config, store -> lock,
                        deliveries.refusedBuilds());
                synchronized (this) {
                    if (!destroyed) {
                        context.setAttribute(BuildhookApplication.ATTRIBUTE, app);
                        app.publishHandOver();
                        return;
                    }
                }
                app.close();
            } catch (InterruptedException e) {
                held.close();
            } catch (RuntimeException e) {
                filter.failed();
                LOG.error("buildhook cannot start, the web application {} is not available (it answers 503):\n{}\n"
                        + "Once that is fixed, deploy the WAR again (touch it) or restart the container", path,
                        e.getMessage());
            }
        }, "buildhook-await-previous-copy");
        waiting = thread;
        thread.setDaemon(true);
        thread.start();
    }

    private static BuildhookConfig configuration(ServletContext context) {
        Object given = context.getAttribute(CONFIG_ATTRIBUTE);
        if (given instanceof BuildhookConfig) {
            return (BuildhookConfig) given;
        }
        ConfigLoader loader = new ConfigLoader(System.getenv(), Path.of("").toAbsolutePath());
        Optional<Path> file = ConfigLoader.locate(context.getInitParameter(CONFIG_PARAM), System.getenv());
        if (file.isPresent()) {
            LOG.info("reading configuration from {}", file.get());
            return loader.load(file.get());
        }
        if (!defaultsAllowed(context.getInitParameter(DEFAULTS_PARAM), System.getProperty(DEFAULTS_PARAM),
                System.getenv("BUILDHOOK_DEFAULTS"))) {
            throw new IllegalStateException(NO_CONFIGURATION);
        }
        LOG.warn("no configuration file (context parameter {}, system property buildhook.config or BUILDHOOK_CONFIG),"
                + " and {}=true: running on the embedded defaults (a webhook secret generated under {}, data there"
                + " too)", CONFIG_PARAM, DEFAULTS_PARAM, Path.of("data").toAbsolutePath());
        return loader.defaults();
    }

    /**
     * Why a WAR without configuration does not start on the defaults: after a redeploy that lost the
     * context file (Tomcat deletes it with the WAR), it would quietly become another server, with a new
     * secret under the container's working directory and every real delivery answered 401.
     */
    static final String NO_CONFIGURATION = "no configuration file: none of the context parameter "
            + CONFIG_PARAM + ", the system property buildhook.config or the environment variable "
            + ConfigLoader.ENV + " is set. Point the WAR at its buildhook.yaml (in Tomcat, e.g.\n"
            + "  CATALINA_OPTS=\"-Dbuildhook.config=/etc/buildhook/buildhook.yaml\" in $CATALINA_BASE/bin/setenv.sh;\n"
            + "in Jetty, -Dbuildhook.config=... in $JETTY_BASE/start.d/buildhook.ini),\n"
            + "or, to try buildhook on its embedded defaults on purpose, set " + DEFAULTS_PARAM + "=true (context"
            + " parameter or system property).";

    /** Whether the operator asked for the embedded defaults: any of the three set to {@code true}. */
    static boolean defaultsAllowed(String initParam, String systemProperty, String environment) {
        for (String value : new String[] {initParam, systemProperty, environment}) {
            if (value != null && value.strip().equalsIgnoreCase("true")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        Thread thread = waiting;
        if (thread != null) {
            synchronized (this) {
                destroyed = true;
            }
            PreviousCopy held = pending;
            if (held != null && !held.over()) {
                thread.interrupt();
            }
            try {
                // Bounded: a start that hangs must not hold the container's stop for ever.
                thread.join(Duration.ofMinutes(5).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (held != null) {
                held.close(); // after a wait that gave up: its channel (nothing once the lock was taken)
            }
        }
        Object app = context.getAttribute(BuildhookApplication.ATTRIBUTE);
        context.removeAttribute(BuildhookApplication.ATTRIBUTE);
        if (app instanceof BuildhookApplication) {
            ((BuildhookApplication) app).close();
        }
        deregisterDrivers();
        awaitOurThreads(Duration.ofSeconds(10));
        stopLogging();
    }

    /**
     * In a container, Logback is this web application's own (WEB-INF/lib) and must be stopped with
     * it; web.xml turns off Logback's initializer, which would stop it before the lines above are
     * logged. Logback is a runtime dependency only, hence the reflective call.
     */
    private static void stopLogging() {
        if (BuildhookListener.class.getClassLoader() == ClassLoader.getSystemClassLoader()) {
            return; // the standalone server: logging belongs to the whole JVM
        }
        Object factory = LoggerFactory.getILoggerFactory();
        if (factory.getClass().getName().equals("ch.qos.logback.classic.LoggerContext")) {
            try {
                factory.getClass().getMethod("stop").invoke(factory);
            } catch (ReflectiveOperationException e) {
                // nothing holds a thread: leaving it is harmless
            }
        }
    }

    /**
     * Pools are shut down by now, but a worker thread may still be finishing its last task (the
     * connection pool's closer, say). The container checks for leftover threads right after this
     * listener returns, so wait, boundedly, for every thread this web application started.
     */
    private static void awaitOurThreads(Duration atMost) {
        ClassLoader ours = BuildhookListener.class.getClassLoader();
        if (ours == ClassLoader.getSystemClassLoader()) {
            return; // the standalone server: the JVM ends with it
        }
        long deadline = System.nanoTime() + atMost.toNanos();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t != Thread.currentThread() && t.getContextClassLoader() == ours && isOurs(t.getName())) {
                long left = deadline - System.nanoTime();
                try {
                    if (left <= 0 || !joined(t, left)) {
                        LOG.warn("thread {} is still running after buildhook stopped", t.getName());
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The names of the threads buildhook and the libraries it starts give their threads. */
    private static boolean isOurs(String name) {
        return name.startsWith("buildhook-") || name.startsWith("db-scheduler");
    }

    private static boolean joined(Thread t, long nanos) throws InterruptedException {
        t.join(Math.max(1, nanos / 1_000_000));
        return !t.isAlive();
    }

    /**
     * JDBC drivers from WEB-INF/lib register themselves with the JVM-wide DriverManager; left
     * there they would keep this web application's class loader alive after undeploy (Tomcat
     * reports it as a memory leak).
     */
    private static void deregisterDrivers() {
        ClassLoader ours = BuildhookListener.class.getClassLoader();
        if (ours == ClassLoader.getSystemClassLoader()) {
            return; // the standalone server: the drivers belong to the whole JVM
        }
        // Listing the drivers loads, here, our copy of each one the container registered (the same driver in
        // its lib/, for a JNDI pool): that copy registers itself while the list is read and is only seen by
        // the next list. So list again until none of ours is left (a pass loads no new class after the first).
        for (int pass = 0; pass < 3; pass++) {
            boolean found = false;
            for (Driver driver : Collections.list(DriverManager.getDrivers())) {
                if (driver.getClass().getClassLoader() == ours) {
                    found = true;
                    try {
                        DriverManager.deregisterDriver(driver);
                    } catch (SQLException e) {
                        LOG.warn("could not deregister JDBC driver {}: {}", driver.getClass().getName(), e.toString());
                    }
                }
            }
            if (!found && pass > 0) {
                // Not after the first list alone: that list may itself have registered a copy of ours (review17 R7).
                return;
            }
        }
    }
}
