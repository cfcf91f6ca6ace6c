package org.buildhook.runner.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.buildhook.core.BuildEvent;
import org.buildhook.core.BuildStatus;
import org.buildhook.core.Run;

/**
 * Build events for tests: the shared JobServ fixtures read with a minimal Jackson mapping (the real
 * parser lives in webhook-core), and hand-made events with chosen values.
 */
final class TestEvents {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestEvents() {
    }

    static Path fixtures() {
        String dir = System.getProperty("buildhook.fixtures");
        return dir != null ? Path.of(dir) : Path.of("..", "fixtures");
    }

    /** The seed payload: build 67 of andy-corp/lmp, PASSED, trigger containers-devel, 4 runs. */
    static BuildEvent seed() {
        return fixture("build-67-passed.json");
    }

    static BuildEvent fixture(String name) {
        try {
            return toEvent(JSON.readTree(fixtures().resolve(name).toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static BuildEvent event(String project, String status, String trigger, List<Run> runs) {
        return new BuildEvent(42, "https://api.foundries.io/projects/" + project + "/builds/42/",
                BuildStatus.of(status), runs, "https://ci.foundries.io/projects/" + project + "/builds/42",
                null, trigger, null, null, Map.of());
    }

    static Run run(String name, String hostTag, String status) {
        String url = "https://api.foundries.io/projects/andy-corp/lmp/builds/42/runs/" + name + "/";
        return new Run(name, url, BuildStatus.of(status), url + "console.log", null, null, null, hostTag, null, Map.of());
    }

    private static BuildEvent toEvent(JsonNode b) {
        List<Run> runs = new ArrayList<>();
        for (JsonNode r : b.path("runs")) {
            runs.add(new Run(r.get("name").asText(), r.get("url").asText(), BuildStatus.of(r.get("status").asText()),
                    r.get("log_url").asText(), text(r, "web_url"), time(r, "created"), time(r, "completed"),
                    text(r, "host_tag"), text(r, "tests"), Map.of()));
        }
        return new BuildEvent(b.get("build_id").asLong(), b.get("url").asText(), BuildStatus.of(b.get("status").asText()),
                runs, text(b, "web_url"), text(b, "name"), text(b, "trigger_name"), time(b, "created"),
                time(b, "completed"), Map.of());
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    private static OffsetDateTime time(JsonNode node, String field) {
        String value = text(node, field);
        return value == null ? null : OffsetDateTime.parse(value);
    }
}
