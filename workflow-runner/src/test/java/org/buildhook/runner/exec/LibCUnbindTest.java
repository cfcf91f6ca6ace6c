package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link LibC#unbind()} returns only once JNA's cleaner thread has ended: Tomcat looks for an undeployed
 * application's threads right after {@code contextDestroyed}, and a thread merely interrupted was still there on a busy
 * machine (WarWatchdogIT's leak check failed in a CI run at load average 25 on 2 cores).
 */
class LibCUnbindTest {

    static List<Thread> liveCleaners() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("JNA Cleaner") && t.isAlive()).toList();
    }

    @Test
    void unbindReturnsOnlyOnceJnasCleanerThreadHasEnded() {
        LibC.bind();
        try (com.sun.jna.Memory registered = new com.sun.jna.Memory(8)) {
            // A JNA Memory registers with JNA's cleaner, which starts its thread if none runs.
            assertThat(liveCleaners()).isNotEmpty();
        }

        LibC.unbind();

        assertThat(liveCleaners()).isEmpty();
    }
}
