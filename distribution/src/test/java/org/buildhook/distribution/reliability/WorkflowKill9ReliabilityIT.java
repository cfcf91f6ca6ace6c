package org.buildhook.distribution.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kill -9 of the real {@code bin/buildhook serve} (SQLite) while one job holds the only unit of a
 * shared resource, another waits for it and a third awaits an approval; then a new server on the
 * same data folder. The held unit is not lost (both board jobs run, never at once, from their own
 * start and end lines), the approval is still there and runs once when approved through the admin
 * API.
 */
class WorkflowKill9ReliabilityIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "workflow-kill9-admin-token";

    @TempDir
    Path dir;

    @Test
    void aHeldUnitAWaitingJobAndAnApprovalSurviveAKillNineOfTheServer() throws Exception {
        Installation installation = Installation.unpack(dir, Installation.traceScript(""));
        Path events = installation.work.resolve("events");
        Path go = installation.work.resolve("go");
        Path board = installation.work.resolve("board.sh");
        Files.writeString(board, "#!/bin/sh\n"
                + "trap 'echo \"E $(date +%s%N) $BUILDHOOK_BUILD_ID $$\" >> " + events + "; exit 143' TERM\n"
                + "echo \"S $(date +%s%N) $BUILDHOOK_BUILD_ID $$\" >> " + events + "\n"
                + "while [ ! -f " + go + " ]; do [ -d " + go.getParent() + " ] || exit 1; sleep 0.05 & wait $!; done\n"
                + "echo \"E $(date +%s%N) $BUILDHOOK_BUILD_ID $$\" >> " + events + "\n");
        Files.setPosixFilePermissions(board, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(installation.work.resolve("rules.yaml"), String.join("\n",
                "resources:",
                "  board: 1",
                "rules:",
                "  - name: flash",
                "    when: {status: PASSED}",
                "    run: {command: [" + board + "], stdin: off, timeout: 30m, resources: {board: 1}}",
                "  - name: gate",
                "    when: {status: PASSED}",
                "    approval: {expires: 1h}",
                "    run: {command: [" + installation.work.resolve("trace.sh") + "], stdin: off}",
                ""));
        Files.writeString(installation.work.resolve("admin-token"), TOKEN + "\n");
        installation.config("admin:\n  token: {file: admin-token}\nrunner:\n  heartbeat-interval: 1s\n"
                + "  missed-heartbeats: 5");

        ServerProcess first = installation.start();
        ServerProcess second = null;
        try {
            assertThat(installation.postSigned(first.base, Installation.build(1)).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofMinutes(2)).until(() -> jobs(first.base, "flash", "RUNNING").size() == 1);
            assertThat(installation.postSigned(first.base, Installation.build(2)).statusCode()).isEqualTo(202);
            await().atMost(Duration.ofMinutes(2)).until(() -> jobs(first.base, "flash", "WAITING").size() == 1);
            List<String> gates = jobs(first.base, "gate", "AWAITING_APPROVAL");
            assertThat(gates).hasSize(2);
            String waiting = jobs(first.base, "flash", "WAITING").get(0);
            assertThat(job(first.base, waiting).path("job").path("message").asText())
                    .startsWith("waiting for board: 1 wanted, 0 of 1 free");

            first.kill();
            second = installation.start();
            String base = second.base;
            assertThat(jobs(base, "gate", "AWAITING_APPROVAL")).containsExactlyInAnyOrderElementsOf(gates);
            Files.writeString(go, "");
            HttpResponse<String> approved = installation.http.send(HttpRequest.newBuilder(
                    URI.create(base + "api/jobs/" + gates.get(0) + "/approve")).header("Authorization", "Bearer " + TOKEN)
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(approved.statusCode()).as(approved.body()).isLessThan(300);

            // The killed job is taken over after the missed-heartbeat limit (5 x 1 s); generous for a loaded machine.
            await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> jobs(base, "flash", "SUCCEEDED").size() == 2 && jobs(base, "gate", "SUCCEEDED").size() == 1);

            assertThat(jobs(base, "gate", "AWAITING_APPROVAL")).containsExactly(gates.get(1));
            assertThat(Files.readAllLines(installation.trace).stream().filter(l -> l.contains(" start ")).count())
                    .as("the approved job ran once").isEqualTo(1);
            List<String> lines = Files.readAllLines(events);
            assertThat(lines.stream().filter(l -> l.startsWith("S ")).count()).as("%s", lines).isEqualTo(3);
            assertThat(mostAtOnce(base, lines)).as("boards in use at once: %s", lines).isEqualTo(1);
            JsonNode killed = job(base, jobs(base, "flash", "SUCCEEDED").stream()
                    .filter(id -> job(base, id).path("attempts").size() == 2).findFirst().orElseThrow());
            assertThat(killed.path("attempts").path(0).path("outcome").asText()).isEqualTo("INTERRUPTED");
        } finally {
            first.close();
            if (second != null) {
                second.close();
            }
        }
    }

    /**
     * The most board runs at once, from their own S and E lines; a run killed by the next server
     * before its shell ran its SIGTERM trap ends when its interrupted attempt was recorded (after its
     * processes were gone).
     */
    private long mostAtOnce(String base, List<String> lines) {
        List<long[]> changes = new ArrayList<>();
        for (String start : lines.stream().filter(l -> l.startsWith("S ")).toList()) {
            String[] f = start.split(" ");
            long end = lines.stream().filter(l -> l.startsWith("E ") && l.endsWith(" " + f[2] + " " + f[3]))
                    .mapToLong(l -> Long.parseLong(l.split(" ")[1])).findFirst().orElseGet(() -> killedAt(base));
            changes.add(new long[] {Long.parseLong(f[1]), 1});
            changes.add(new long[] {end, -1});
        }
        changes.sort((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
        long now = 0;
        long most = 0;
        for (long[] c : changes) {
            now += c[1];
            most = Math.max(most, now);
        }
        return most;
    }

    private long killedAt(String base) {
        for (String id : jobs(base, "flash", null)) {
            for (JsonNode a : job(base, id).path("attempts")) {
                if (a.path("outcome").asText().equals("INTERRUPTED")) {
                    java.time.Instant at = java.time.Instant.parse(a.path("endedAt").asText());
                    return at.getEpochSecond() * 1_000_000_000L + at.getNano();
                }
            }
        }
        throw new AssertionError("a board run without an end line, and no interrupted attempt");
    }

    private List<String> jobs(String base, String rule, String state) {
        return get(base, "api/jobs?rule=" + rule + (state == null ? "" : "&state=" + state.toLowerCase())
                + "&limit=100").path("items").findValuesAsText("id");
    }

    private JsonNode job(String base, String id) {
        return get(base, "api/jobs/" + id);
    }

    private JsonNode get(String base, String path) {
        try {
            HttpResponse<String> r = HttpClientHolder.send(base + path);
            assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
            return JSON.readTree(r.body());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** One client for the admin API's GETs. */
    private static final class HttpClientHolder {
        private static final java.net.http.HttpClient CLIENT = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

        static HttpResponse<String> send(String uri) throws Exception {
            return CLIENT.send(HttpRequest.newBuilder(URI.create(uri)).header("Authorization", "Bearer " + TOKEN)
                    .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
