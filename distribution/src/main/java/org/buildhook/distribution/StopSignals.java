package org.buildhook.distribution;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.runner.engine.JobEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Logs which signal stops the standalone server, then lets the JVM's own handler act as before: a
 * graceful stop through the shutdown hooks, exit status 128 + the signal's number (143 for SIGTERM,
 * 130 for SIGINT, 129 for SIGHUP). Without it a stop left no line saying why. {@code sun.misc.Signal}
 * ({@code jdk.unsupported}) is the JDK's only way to observe a signal; a JVM that does not let us
 * (run with {@code -Xrs}, or a signal ignored from the start as under {@code nohup}) keeps its
 * behaviour, only unlogged.
 *
 * <p>A second stop signal (Ctrl-C again, another SIGTERM) does not wait for the rest of
 * {@code runner.shutdown-grace}: running jobs are killed now and put back in the queue, as when the
 * grace runs out ({@link JobEngine#hurryStops}); they run again at the next start. The stop itself goes
 * on as the first signal began it.
 *
 * <p>SIGHUP is not a reload: buildhook reads buildhook.yaml at start only (the rules file is reloaded
 * on its own when it changes), so a hang-up stops the server as SIGTERM does, and says so.
 */
final class StopSignals {

    private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);

    /** Signal name to what the log says about it. */
    private static final Map<String, String> WHY = Map.of(
            "TERM", ": stopping gracefully",
            "INT", " (Ctrl-C): stopping gracefully",
            "HUP", ": stopping gracefully. buildhook has no reload: buildhook.yaml is read at start only"
                    + " (the rules file is reloaded by itself when it changes); to apply a changed buildhook.yaml,"
                    + " restart (systemctl restart buildhook)");

    /** Stop signals received so far. */
    private static final AtomicInteger RECEIVED = new AtomicInteger();
    /** The exit status of the stop the first stop signal began (128 + its number), 0 while none came. */
    private static volatile int stopStatus;

    /**
     * System property set by bin/buildhook when this JVM writes a class-data archive at its exit: the
     * file to create when a stop signal begins a graceful stop. The launcher keeps the archive only
     * with that file beside it, not the archive of a start that failed (which holds only the classes of
     * that start). Internal to the launcher, not a configuration key.
     */
    static final String STOP_MARKER = "buildhook.cds.stop-marker";

    private StopSignals() {
    }

    /**
     * Creates {@code marker} (when not null) to say that a stop signal started a graceful stop. A file
     * that cannot be written only costs the archive (the launcher then writes a new one at the next
     * stop), so the error is logged at debug level and the stop goes on.
     *
     * @param marker the file to create, from {@link #STOP_MARKER}; null: nothing to do
     */
    static void markGracefulStop(String marker) {
        if (marker == null || marker.isEmpty()) {
            return;
        }
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of(marker), "stopped by a signal\n");
        } catch (java.io.IOException | RuntimeException e) {
            LOG.debug("cannot write {}: {}", marker, e.toString());
        }
    }

    /**
     * The exit status of the graceful stop a stop signal began (128 + the signal's number: 143 for
     * SIGTERM), or empty when no stop signal came (the JVM exits for another reason).
     */
    static java.util.OptionalInt stopStatus() {
        int status = stopStatus;
        return status == 0 ? java.util.OptionalInt.empty() : java.util.OptionalInt.of(status);
    }

    /** Installs the logging in front of the JVM's handlers of SIGTERM, SIGINT and SIGHUP. */
    static void logWhenStopped() {
        WHY.forEach(StopSignals::observe);
    }

    private static void observe(String name, String why) {
        Signal signal = new Signal(name);
        SignalHandler[] previous = new SignalHandler[1];
        try {
            previous[0] = Signal.handle(signal, s -> {
                if (RECEIVED.getAndIncrement() > 0) {
                    // The JVM's handler would only block: its shutdown is under way.
                    LOG.warn("received SIG{} again: stopping now; running jobs are killed and run again at the"
                            + " next start", name);
                    JobEngine.hurryStops();
                    return;
                }
                LOG.info("received SIG{}{}", name, why);
                stopStatus = 128 + s.getNumber();
                markGracefulStop(System.getProperty(STOP_MARKER));
                SignalHandler jvm = previous[0];
                if (jvm != null) {
                    jvm.handle(s);
                } else {
                    // Arrived before Signal.handle returned: what the JVM's handler does.
                    Runtime.getRuntime().exit(128 + s.getNumber());
                }
            });
        } catch (IllegalArgumentException e) {
            LOG.debug("cannot observe SIG{}: {}", name, e.getMessage());
            return;
        }
        if (previous[0] == SignalHandler.SIG_DFL || previous[0] == SignalHandler.SIG_IGN) {
            // Not the JVM's shutdown handler (-Xrs, nohup): what was there stays, untouched.
            Signal.handle(signal, previous[0]);
        }
    }
}
