package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.buildhook.servlet.config.Ranges;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Every number, duration and size key, at the least and the greatest value the configuration
 * reference documents (the docs are held to {@link Ranges} by {@code ConfigDocsTest}): both pass
 * {@code buildhook check} and a real start of the server {@code serve} builds; one step outside
 * is a clear mistake naming the key, never a stack trace.
 */
class ConfigRangesTest {

    @TempDir
    Path dir;

    @Test
    void everyDocumentedMinimumAndMaximumPassesCheckAndARealStart() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, Ranges.Range> key : Ranges.ALL.entrySet()) {
            for (String value : List.of(key.getValue().min(), key.getValue().max())) {
                Path config = write(key.getKey(), value);
                Checked checked = check(config);
                if (checked.code() != 0 || hasStackTrace(checked.output())) {
                    failures.add(key.getKey() + ": " + value + " fails check: " + checked.output());
                    continue;
                }
                String started = start(config);
                if (started != null) {
                    failures.add(key.getKey() + ": " + value + " passes check but does not start: " + started);
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void oneStepOutsideEveryRangeIsAClearMistakeNamingTheKey() throws Exception {
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, Ranges.Range> key : Ranges.ALL.entrySet()) {
            for (String value : outside(key.getValue())) {
                Checked checked = check(write(key.getKey(), value));
                if (checked.code() == 0 || hasStackTrace(checked.output())
                        || !checked.output().contains(": " + key.getKey() + ": ")) {
                    failures.add(key.getKey() + ": " + value + " is not refused clearly: " + checked.output());
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void missedHeartbeatsBelowFourIsAMistakeNotAStackTrace() throws Exception {
        for (String value : List.of("1", "2", "3")) {
            Checked checked = check(write("runner.missed-heartbeats", value));

            assertThat(checked.code()).isEqualTo(ExitCodes.FAILED);
            assertThat(checked.output()).contains("runner.missed-heartbeats: must be between 4 and 1000, got " + value)
                    .doesNotContain("Exception", "\tat ");
        }
    }

    /** One step below the minimum (where one can be written) and one above the maximum. */
    static List<String> outside(Ranges.Range range) {
        List<String> out = new ArrayList<>();
        switch (range.kind()) {
            case INTEGER:
                out.add(Long.toString(range.minValue() - 1));
                out.add(Long.toString(range.maxValue() + 1));
                break;
            case DURATION:
                if (range.minValue() > 0) {
                    out.add((range.minValue() - 1) + "ms");
                }
                out.add(range.max() + "1ms");
                break;
            default:
                out.add(Long.toString(range.minValue() - 1));
                out.add(Long.toString(range.maxValue() + 1));
        }
        return out;
    }

    /** A configuration with {@code key} set to {@code value}, and what it needs to be valid otherwise. */
    Path write(String key, String value) throws IOException {
        Path folder = Files.createTempDirectory(dir, key.replace('.', '-') + "-");
        Files.writeString(folder.resolve("secret"), "s3cret\n");
        Map<String, Object> tree = new LinkedHashMap<>();
        put(tree, "data-dir", "data");
        put(tree, "endpoints.default.secrets", "[{file: secret}]");
        put(tree, "server.host", "127.0.0.1");
        if (!key.equals("server.port")) {
            put(tree, "server.port", "0");
        }
        if (key.equals("server.threads.min")) {
            // min may not exceed max: the greatest min needs the greatest max.
            put(tree, "server.threads.max", Long.toString(Math.max(Long.parseLong(value), 16)));
        }
        put(tree, key, value);
        StringBuilder yaml = new StringBuilder();
        render(tree, "", yaml);
        return Files.writeString(folder.resolve("buildhook.yaml"), yaml.toString());
    }

    @SuppressWarnings("unchecked")
    static void put(Map<String, Object> tree, String key, String value) {
        String[] parts = key.split("\\.");
        Map<String, Object> at = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            at = (Map<String, Object>) at.computeIfAbsent(parts[i], k -> new LinkedHashMap<String, Object>());
        }
        at.put(parts[parts.length - 1], value);
    }

    @SuppressWarnings("unchecked")
    static void render(Map<String, Object> tree, String indent, StringBuilder out) {
        tree.forEach((k, v) -> {
            if (v instanceof Map) {
                out.append(indent).append(k).append(":\n");
                render((Map<String, Object>) v, indent + "  ", out);
            } else {
                out.append(indent).append(k).append(": ").append(v).append('\n');
            }
        });
    }

    record Checked(int code, String output) {
    }

    static Checked check(Path config) {
        StringWriter out = new StringWriter();
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(out, true));
        int code = cl.execute("check", "--config", config.toString());
        return new Checked(code, out.toString());
    }

    static boolean hasStackTrace(String output) {
        return output.contains("\tat ") || output.contains("Exception");
    }

    /** Loads and starts the server as {@code serve} does, then stops it; the failure, or null. */
    static String start(Path config) {
        BuildhookConfig loaded;
        try {
            loaded = new ConfigLoader(Map.of(), config.getParent()).load(config);
        } catch (RuntimeException e) {
            return "load: " + e;
        }
        BuildhookServer server = null;
        try {
            server = BuildhookServer.create(loaded.server(), c -> ServeCommand.install(c, loaded));
            server.start();
            return null;
        } catch (Exception e) {
            return e.toString();
        } finally {
            if (server != null) {
                // The server's own stop, as at SIGTERM: Jetty's stop given server.stop-timeout 1ms may run out on a
                // busy machine (TimeoutException), which serve says at WARN; that is no failure of the start (ci-e of
                // 61d4db19, at load 5).
                server.drainThenStop();
                try {
                    server.close(); // its shutdown hook, if one was added; Jetty is stopped already
                } catch (Exception stopped) {
                    // stopped above
                }
            }
        }
    }
}
