package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The watchdog's JVM ({@link NodeWatchdog}) runs on {@link Watchdog#classpath()} alone: workflow-runner's classes, no
 * JNA, no logging library, no other module. A class it uses that names a type it does not have where the verifier
 * must load it (a JNA exception caught in a lambda: cgroup53, a first version of c84ab21a) fails its verification
 * there, {@code NoClassDefFoundError} at the watchdog's kill, seen only as a line of its log. This test starts a JVM
 * exactly as {@link Watchdog#command()} does (its java, its options, its class path) and has it load, verify and
 * initialise every class of the watchdog's reach: the classes of this module that {@link NodeWatchdog} names, and
 * those they name, transitively, read from their class files' constant pools.
 */
class WatchdogClassPathTest {

    /**
     * Classes of the reach that the watchdog's JVM never loads, and why: each is reached only where the node's JVM has
     * what it needs, behind a guard the watchdog's code paths do not pass. Their own references are not followed.
     */
    private static final Map<String, String> NOT_IN_THE_WATCHDOG = Map.of(
            "org.buildhook.runner.exec.TrustedAttribute", "JNA's getxattr: only AttemptCgroups.decide(), which the"
                    + " watchdog never calls (it only locate()s)",
            "org.buildhook.runner.exec.Orphans", "JNA's prctl and waitpid: the node's subreaper, named by"
                    + " ProcessTree's kill of a running attempt's tree, JobPipes.beingSpawnedBy (a look at held pipes,"
                    + " with a grace) and AttemptCgroups.decide()'s probe; the watchdog kills at once"
                    + " (Leftovers.kill(…, 0)) and asks ProcessTree only isGone",
            "org.buildhook.runner.exec.NativeSpawn", "JNA: reached through TrustedAttribute only",
            "org.buildhook.runner.exec.LibC", "JNA: reached through TrustedAttribute only",
            "org.buildhook.runner.exec.AttemptCgroups$Log", "slf4j: loaded only when something is said, the"
                    + " LinkageError caught (AttemptCgroups.warnOnce, info)");

    private static final Pattern DESCRIBED = Pattern.compile("L(org/buildhook/[^;<>]+)[;<]");

    @Test
    void theWatchdogsJvmLoadsAndVerifiesEveryClassItUsesWithoutJna(@TempDir Path dir) throws Exception {
        Path classes = Path.of(Watchdog.classpath());
        assertThat(classes).as("the tests run on workflow-runner's classes folder").isDirectory();
        Set<String> reach = reachOf(NodeWatchdog.class.getName(), classes);
        assertThat(reach).contains(NodeWatchdog.class.getName(), Leftovers.class.getName(),
                AttemptCgroups.class.getName(), ProcStat.class.getName());

        // The loader beside the watchdog's class path, alone in a folder of its own.
        String loaderFile = WatchdogClassLoad.class.getName().replace('.', '/') + ".class";
        Path copy = dir.resolve(loaderFile);
        Files.createDirectories(copy.getParent());
        try (InputStream in = WatchdogClassLoad.class.getClassLoader().getResourceAsStream(loaderFile)) {
            Files.write(copy, in.readAllBytes());
        }
        List<String> command = new ArrayList<>(Watchdog.JVM_OPTIONS.size() + reach.size() + 4);
        command.add(Watchdog.java(System.getProperty("java.home"), ProcessHandle.current().info().command()));
        command.addAll(Watchdog.JVM_OPTIONS);
        command.add("-cp");
        command.add(Watchdog.classpath() + java.io.File.pathSeparator + dir);
        command.add(WatchdogClassLoad.class.getName());
        command.addAll(reach);
        assertThat(command).as("the verifier is not turned off").noneMatch(o -> o.startsWith("-Xverify")
                || o.contains("BytecodeVerification"));
        Process jvm = new ProcessBuilder(command).redirectErrorStream(true).start();
        jvm.getOutputStream().close();
        String printed = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jvm.waitFor(2, TimeUnit.MINUTES)).isTrue();

        assertThat(printed.lines().filter(line -> line.startsWith("FAILED "))).as(printed).isEmpty();
        assertThat(printed.lines().filter(line -> line.startsWith("ok ")).map(line -> line.substring(3)))
                .as(printed).containsExactlyElementsOf(reach);
        assertThat(jvm.exitValue()).as(printed).isZero();
    }

    /**
     * {@code start} and every class of this module's it names, transitively (constant pool classes and descriptors),
     * found in {@code classes}; not through {@link #NOT_IN_THE_WATCHDOG}. A class of {@code org.buildhook} named but not
     * in {@code classes} (another module's) is in the reach too, so that its load fails.
     */
    private static Set<String> reachOf(String start, Path classes) throws IOException {
        Set<String> reach = new LinkedHashSet<>();
        Deque<String> next = new ArrayDeque<>(List.of(start));
        while (!next.isEmpty()) {
            String name = next.removeFirst();
            if (NOT_IN_THE_WATCHDOG.containsKey(name) || !reach.add(name)) {
                continue;
            }
            Path file = classes.resolve(name.replace('.', '/') + ".class");
            if (Files.isRegularFile(file)) {
                for (String named : classesNamedIn(Files.readAllBytes(file))) {
                    next.addLast(named);
                }
            }
        }
        return reach;
    }

    /** The {@code org.buildhook} classes a class file's constant pool names, as binary names. */
    private static Set<String> classesNamedIn(byte[] classFile) throws IOException {
        Set<String> named = new LinkedHashSet<>();
        List<String> texts = new ArrayList<>();
        List<Integer> classEntries = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(classFile))) {
            assertThat(in.readInt()).isEqualTo(0xCAFEBABE);
            in.readUnsignedShort();
            in.readUnsignedShort();
            int count = in.readUnsignedShort();
            String[] utf8 = new String[count];
            for (int i = 1; i < count; i++) {
                int tag = in.readUnsignedByte();
                switch (tag) {
                    case 1 -> {
                        utf8[i] = in.readUTF();
                        texts.add(utf8[i]);
                    }
                    case 3, 4 -> in.readInt();
                    case 5, 6 -> {
                        in.readLong();
                        i++;
                    }
                    case 7 -> classEntries.add(in.readUnsignedShort());
                    case 8, 16, 19, 20 -> in.readUnsignedShort();
                    case 9, 10, 11, 12, 17, 18 -> in.readInt();
                    case 15 -> {
                        in.readUnsignedByte();
                        in.readUnsignedShort();
                    }
                    default -> throw new IOException("constant pool tag " + tag + " at entry " + i);
                }
            }
            for (int index : classEntries) {
                String name = utf8[index];
                if (name.startsWith("org/buildhook/")) {
                    named.add(name.replace('/', '.'));
                }
            }
        }
        for (String text : texts) {
            Matcher m = DESCRIBED.matcher(text);
            while (m.find()) {
                named.add(m.group(1).replace('/', '.'));
            }
        }
        return named;
    }
}
