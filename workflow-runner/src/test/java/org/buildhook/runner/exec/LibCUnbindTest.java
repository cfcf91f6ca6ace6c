package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link LibC#unbind()} returns only once JNA's cleaner thread has ended: Tomcat looks for an undeployed
 * application's threads right after {@code contextDestroyed}, and a thread merely interrupted was still there on a busy
 * machine (WarWatchdogIT's leak check failed in a CI run at load average 25 on 2 cores).
 *
 * <p>In a JVM of its own ({@link Probe}): JNA never starts a cleaner again once one was interrupted, so in the test
 * JVM the outcome would depend on which test unbound first (the whole suite's fork had none left to look at).
 */
class LibCUnbindTest {

    /** Binds, makes JNA's cleaner run, unbinds; exits 0 when no cleaner is alive after, 1 when one is, 2 if none ran. */
    public static final class Probe {
        static List<Thread> liveCleaners() {
            return Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("JNA Cleaner") && t.isAlive()).toList();
        }

        public static void main(String[] args) {
            LibC.bind();
            try (com.sun.jna.Memory registered = new com.sun.jna.Memory(8)) {
                // A JNA Memory registers with JNA's cleaner, which starts its thread if none runs.
                if (liveCleaners().isEmpty()) {
                    System.out.println("no JNA Cleaner ran after bind and a Memory");
                    System.exit(2);
                }
            }
            LibC.unbind();
            List<Thread> left = liveCleaners();
            System.out.println(left.isEmpty() ? "none left" : "left alive: " + left);
            System.exit(left.isEmpty() ? 0 : 1);
        }
    }

    @Test
    void unbindReturnsOnlyOnceJnasCleanerThreadHasEnded() throws IOException, InterruptedException {
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), Probe.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();

        assertThat(child.exitValue()).as(out).isZero();
    }
}
