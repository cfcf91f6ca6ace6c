package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.buildhook.runner.engine.EngineConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout29 F8: a node whose host name does not resolve was listed as {@code localhost} (the Nodes list's {@code host},
 * the claim of its id, its attempts) and its default {@code runner.node-id} was {@code node-<pid>}:
 * {@link InetAddress#getLocalHost()} throws for a name it cannot resolve. The name is the kernel's, resolved or not.
 * The unresolvable name is real: a child JVM in its own UTS namespace ({@code unshare --uts}, as root) whose host
 * name is in no {@code /etc/hosts} nor DNS. Needs {@code unshare} and root; it fails, never skips, without them.
 */
class HostNameTest {

    private static final String UNRESOLVABLE = "x-unresolvable-words30";

    @TempDir
    Path dir;

    @Test
    void aHostWhoseNameDoesNotResolveIsListedByItsNameNotAsLocalhost() throws Exception {
        List<String> printed = inAUtsNamespaceNamed(UNRESOLVABLE);

        assertThat(printed).as("the name does not resolve there").contains("resolves: no");
        assertThat(printed).contains("host: " + UNRESOLVABLE, "current: " + UNRESOLVABLE);
        assertThat(printed).anyMatch(l -> l.matches("node id: " + UNRESOLVABLE + "-[0-9]+"));
    }

    @Test
    void theNameIsTheKernelsAsHostnamePrintsIt() throws Exception {
        String kernel = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        assertThat(HostName.current()).isEqualTo(kernel);
        assertThat(NodeIdentity.current().host()).isEqualTo(kernel);
        // Not Linux (no such file): the JDK's name, or "unknown"; never empty, never over the column's 255.
        assertThat(HostName.of(dir.resolve("missing"))).isNotEmpty();
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        assertThat(HostName.of(empty)).isNotEmpty();
        Path lng = Files.writeString(dir.resolve("long"), "h".repeat(300) + "\n");
        assertThat(HostName.of(lng)).isEqualTo("h".repeat(HostName.MOST));
    }

    /** What {@link Print} prints in a child JVM whose host name (its own UTS namespace's) is {@code name}. */
    private List<String> inAUtsNamespaceNamed(String name) throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path out = dir.resolve("out");
        Process child = new ProcessBuilder("unshare", "--uts", "--", java, "-cp", System.getProperty("java.class.path"),
                "-Xmx64m", Print.class.getName(), name).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        boolean ended = child.waitFor(5, TimeUnit.MINUTES);
        if (!ended) {
            child.destroyForcibly();
        }
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(ended && child.exitValue() == 0).as("the child ended well: %s", text).isTrue();
        return text.lines().toList();
    }

    /**
     * The child: names its UTS namespace {@code args[0]} (sethostname through {@code hostname}, before anything reads
     * it), then prints whether that resolves and what buildhook takes for this host.
     */
    public static final class Print {

        public static void main(String[] args) throws Exception {
            Process set = new ProcessBuilder("hostname", args[0]).inheritIO().start();
            if (set.waitFor() != 0) {
                throw new IllegalStateException("hostname " + args[0] + " failed");
            }
            String resolves;
            try {
                InetAddress.getLocalHost();
                resolves = "yes";
            } catch (java.net.UnknownHostException e) {
                resolves = "no";
            }
            System.out.println("resolves: " + resolves);
            System.out.println("current: " + HostName.current());
            System.out.println("host: " + NodeIdentity.current().host());
            System.out.println("node id: " + EngineConfig.defaultNodeId());
        }
    }
}
