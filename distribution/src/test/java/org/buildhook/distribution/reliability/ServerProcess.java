package org.buildhook.distribution.reliability;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code bin/buildhook serve} process. The launcher script {@code exec}s java, so the process
 * is the JVM itself: {@link #kill()} is a SIGKILL of the server, not of a wrapper shell.
 */
final class ServerProcess implements AutoCloseable {

    static final Pattern LISTENING = Pattern.compile(
            "buildhook listening on (?:all interfaces, port \\d+ \\(from this host: )?(http://[^\\s;]+/)[ ;]");

    final Process process;
    final String base;
    final List<String> output;

    private ServerProcess(Process process, String base, List<String> output) {
        this.process = process;
        this.base = base;
        this.output = output;
    }

    static ServerProcess start(Installation installation) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(installation.home.resolve("bin/buildhook").toString(), "serve",
                "--config", installation.work.resolve("buildhook.yaml").toString(), "--port", "0", "--host", "127.0.0.1")
                .directory(installation.work.toFile()).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("JAVA_OPTS", "-Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC");
        pb.environment().remove("BUILDHOOK_CONFIG");
        // No class-data archive (BUILDHOOK_CDS_DIR unset would keep one in the user's cache folder): ClassDataArchiveIT.
        pb.environment().put("BUILDHOOK_CDS_DIR", "");
        Process process = pb.start();
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    output.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
                url.completeExceptionally(new IllegalStateException("serve ended: " + output));
            } catch (IOException e) {
                url.completeExceptionally(e);
            }
        }, "reliability-server-output");
        reader.setDaemon(true);
        reader.start();
        try {
            return new ServerProcess(process, url.get(120, TimeUnit.SECONDS), output);
        } catch (Exception e) {
            process.destroyForcibly();
            throw e;
        }
    }

    /** SIGKILL, and waits until the JVM is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(60, TimeUnit.SECONDS);
    }

    boolean alive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                process.destroy();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    kill();
                }
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
