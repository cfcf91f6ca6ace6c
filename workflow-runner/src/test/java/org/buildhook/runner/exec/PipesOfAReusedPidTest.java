package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/**
 * Without posix_spawn (the JDK's pipes: {@code -Dbuildhook.launch=setsid}, musl), an attempt's pipes are read from
 * its program's {@code /proc/<pid>/fd/0} and {@code 1} when the attempt is added. A program that had already exited
 * by then (the JDK reaps it at once) freed its pid, which another process may have taken: that process's pipes were
 * taken for the job's, and the job's tree kill then ended every process holding them (another job's command, a
 * pipeline of the host). Here the program's handle is of an exited process while its pid is a live {@code sleep}'s,
 * whose output is a pipe, as after such a reuse.
 */
@EnabledOnOs(OS.LINUX)
class PipesOfAReusedPidTest {

    /** A started program that has exited ({@link ForwardingProcess#real}), whose pid now belongs to {@code other}. */
    private static final class Reused extends ForwardingProcess {
        private final Process other;

        Reused(Process exited, Process other) {
            super(exited);
            this.other = other;
        }

        @Override
        public long pid() {
            return other.pid();
        }

        @Override
        protected void outputEnds() {
            // nothing held back
        }

        @Override
        public OutputStream getOutputStream() {
            return real.getOutputStream();
        }

        @Override
        public InputStream getInputStream() {
            return real.getInputStream();
        }
    }

    @Test
    void thePipesOfAProcessThatTookTheExitedProgramsPidAreNotTheJobs() throws Exception {
        Process exited = new ProcessBuilder("true").start();
        assertThat(exited.waitFor(2, TimeUnit.MINUTES)).isTrue();
        Process other = new ProcessBuilder("sleep", "600").start();
        try {
            String itsPipe = Files.readSymbolicLink(Path.of("/proc/" + other.pid() + "/fd/1")).toString();
            assertThat(itsPipe).startsWith("pipe:[");

            assertThat(Attempt.pipesOf(new Reused(exited, other))).doesNotContain(itsPipe).isEmpty();
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void thePipesOfAProgramStillRunningAreRead() throws Exception {
        Process running = new ProcessBuilder("sleep", "600").start();
        try {
            String output = Files.readSymbolicLink(Path.of("/proc/" + running.pid() + "/fd/1")).toString();
            String input = Files.readSymbolicLink(Path.of("/proc/" + running.pid() + "/fd/0")).toString();

            assertThat(Attempt.pipesOf(running)).containsExactlyInAnyOrder(input, output);
        } finally {
            running.destroyForcibly();
        }
    }
}
