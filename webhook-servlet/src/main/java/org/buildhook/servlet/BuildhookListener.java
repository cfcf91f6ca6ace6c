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
    /** Context attribute through which an embedding server hands over an already loaded configuration. */
    public static final String CONFIG_ATTRIBUTE = BuildhookConfig.class.getName();

    private static final Logger LOG = LoggerFactory.getLogger(BuildhookListener.class);

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        try {
            BuildhookConfig config = configuration(context);
            context.setAttribute(BuildhookApplication.ATTRIBUTE, BuildhookApplication.start(config));
        } catch (RuntimeException e) {
            LOG.error("buildhook cannot start, the web application {} is not available:\n{}",
                    context.getContextPath().isEmpty() ? "/" : context.getContextPath(), e.getMessage());
            deregisterDrivers();
            throw new IllegalStateException("buildhook cannot start: " + e.getMessage(), e);
        }
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
        LOG.info("no configuration file (init-param {}, system property buildhook.config or BUILDHOOK_CONFIG): "
                + "using embedded defaults", CONFIG_PARAM);
        return loader.defaults();
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        Object app = context.getAttribute(BuildhookApplication.ATTRIBUTE);
        context.removeAttribute(BuildhookApplication.ATTRIBUTE);
        if (app instanceof BuildhookApplication) {
            ((BuildhookApplication) app).close();
        }
        deregisterDrivers();
        awaitOurThreads(Duration.ofSeconds(10));
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
        for (Driver driver : Collections.list(DriverManager.getDrivers())) {
            if (driver.getClass().getClassLoader() == ours) {
                try {
                    DriverManager.deregisterDriver(driver);
                } catch (SQLException e) {
                    LOG.warn("could not deregister JDBC driver {}: {}", driver.getClass().getName(), e.toString());
                }
            }
        }
    }
}
