package org.buildhook.distribution;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.buildhook.core.Signer;
import org.buildhook.servlet.BuildhookApplication;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigLoader;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;

/**
 * A real standalone server on port 0 for the admin tests: configuration from a YAML file in a
 * temporary folder, rules running {@code /bin/sh} scripts there, signed deliveries over HTTP.
 * Tests get one as a parameter from {@link AdminServerExtension}, which also stops it.
 *
 * <p>Rules: {@code echo} (PASSED builds) prints two lines; {@code wait} (FAILED builds) prints
 * {@code started}, waits for the file {@code go} and prints {@code finished}.
 */
final class AdminServer implements AutoCloseable {

    static final String TOKEN = "admin-token-for-tests-0123456789";
    static final String SECRET = "webhook-secret-for-tests";
    private static final ObjectMapper JSON = new ObjectMapper();

    final Path dir;
    /** This server's admin token: {@link #TOKEN} unless started {@link #withAdminToken}. */
    final String token;
    final BuildhookServer server;
    final HttpClient http = HttpClient.newHttpClient();
    private final AtomicReference<ServletContextHandler> context = new AtomicReference<>();

    private AdminServer(Path dir, boolean adminOn) throws Exception {
        this(dir, adminOn, "");
    }

    /** @param cluster extra top-level YAML (e.g. a shared store and a node id), or empty */
    private AdminServer(Path dir, boolean adminOn, String cluster) throws Exception {
        this(dir, adminOn, cluster, null);
    }

    /**
     * @param cluster extra top-level YAML (e.g. a shared store and a node id), or empty
     * @param rules   the rules file's text, or null for the {@code echo} and {@code wait} rules
     */
    private AdminServer(Path dir, boolean adminOn, String cluster, String rules) throws Exception {
        this(dir, adminOn, cluster, rules, null);
    }

    /** @param endpoint the name of a second endpoint, with the same secret as {@code default}, or null */
    private AdminServer(Path dir, boolean adminOn, String cluster, String rules, String endpoint) throws Exception {
        this(dir, adminOn, cluster, rules, endpoint, TOKEN);
    }

    private AdminServer(Path dir, boolean adminOn, String cluster, String rules, String endpoint, String token)
            throws Exception {
        this.dir = dir;
        this.token = token;
        Files.writeString(dir.resolve("webhook-secret"), SECRET);
        Files.writeString(dir.resolve("admin-token"), token + "\n");
        Files.writeString(dir.resolve("echo.sh"), "printf 'line one\\nline two %s\\n' \"$1\"\n");
        Files.writeString(dir.resolve("wait.sh"), "echo started\nwhile [ ! -f '" + dir.resolve("go")
                + "' ]; do [ -d '" + dir + "' ] || exit 1; sleep 0.1; done\necho finished\n");
        if (rules == null) {
            writeRules(false);
        } else {
            replaceRules(rules);
        }
        Path yaml = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints:",
                "  default:",
                "    secrets:",
                "      - file: webhook-secret",
                endpoint == null ? "" : "  " + endpoint + ":\n    secrets:\n      - file: webhook-secret",
                adminOn ? "admin:\n  token: {file: admin-token}" : "",
                "runner:",
                "  kill-grace: 1s",
                cluster,
                "server:",
                "  host: 127.0.0.1",
                "  port: 0",
                ""));
        BuildhookConfig config = new ConfigLoader(Map.of(), dir).load(yaml);
        server = BuildhookServer.create(config.server(), c -> {
            ServeCommand.install(c, config);
            context.set(c);
        });
        server.start();
    }

    static AdminServer start(Path dir) throws Exception {
        return new AdminServer(dir, true);
    }

    /** As {@link #start(Path)}, with a second endpoint named {@code endpoint} ({@link #deliverBody(String, byte[])}). */
    static AdminServer startWithEndpoint(Path dir, String endpoint) throws Exception {
        return new AdminServer(dir, true, "", null, endpoint);
    }

    /**
     * A node of a cluster: the store at {@code storeUrl} (shared with the other nodes), its own data and
     * log directory in {@code dir}, and the node id {@code nodeId}.
     */
    static AdminServer clusterNode(Path dir, String storeUrl, String nodeId) throws Exception {
        return new AdminServer(dir, true, "  node-id: " + nodeId + "\n  poll-interval: 1s\n"
                + "store:\n  url: '" + storeUrl + "'");
    }

    /**
     * A node of a cluster as {@link #clusterNode(Path, String, String)}, with the rules file {@code rules}
     * (the same text on two nodes is the same rules), looking at the other nodes' rules every second
     * ({@code runner.heartbeat-interval: 1s}, the dead-node limit 60 s) and without a watchdog.
     */
    static AdminServer clusterNode(Path dir, String storeUrl, String nodeId, String rules) throws Exception {
        return new AdminServer(dir, true, "  node-id: " + nodeId + "\n  poll-interval: 1s\n  heartbeat-interval: 1s\n"
                + "  missed-heartbeats: 60\n  watchdog: off\nstore:\n  url: '" + storeUrl + "'", rules);
    }

    /** With further {@code runner:} keys, each line indented by two spaces (e.g. {@code "  log-max-bytes: 4KiB"}). */
    static AdminServer withRunner(Path dir, String runnerKeys) throws Exception {
        return new AdminServer(dir, true, runnerKeys);
    }

    /** With the rules file {@code rules} (on the same data, a start with other rules than the last one's). */
    static AdminServer withRules(Path dir, String rules) throws Exception {
        return new AdminServer(dir, true, "", rules);
    }

    /** With the rules file {@code rules}, on the store at {@code storeUrl} (its data folder {@code dir/data}). */
    static AdminServer withRulesOn(Path dir, String rules, String storeUrl) throws Exception {
        return new AdminServer(dir, true, "store:\n  url: '" + storeUrl + "'", rules);
    }

    /** With the admin token {@code token} instead of {@link #TOKEN}. */
    static AdminServer withAdminToken(Path dir, String token) throws Exception {
        return new AdminServer(dir, true, "", null, null, token);
    }

    static AdminServer withoutAdminToken(Path dir) throws Exception {
        return new AdminServer(dir, false);
    }

    /** The rules file; with {@code also}, a third rule {@code also} for PASSED builds too. */
    void writeRules(boolean also) throws IOException {
        String rules = "rules:\n"
                + "  - name: echo\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("echo.sh") + "', '${build.id}']\n      timeout: 30s\n"
                + "  - name: wait\n    when: {status: FAILED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("wait.sh") + "']\n      timeout: 5m\n";
        if (also) {
            rules += "  - name: also\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh, '"
                    + dir.resolve("echo.sh") + "', also]\n      timeout: 30s\n";
        }
        replaceRules(rules);
    }

    /**
     * Replaces the rules file in one step, as an editor saving by rename does: the rules watcher
     * reacts at once to a change, and a file written in place could be read while still empty.
     */
    void replaceRules(String text) throws IOException {
        Path next = Files.writeString(dir.resolve("rules.yaml.next"), text);
        Files.move(next, dir.resolve("rules.yaml"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    BuildhookApplication app() {
        return BuildhookApplication.from(context.get().getServletContext());
    }

    URI uri() {
        return server.uri();
    }

    /** A fixture file's text (the folder surefire names in {@code buildhook.fixtures}). */
    static String fixture(String name) throws IOException {
        return Files.readString(fixturePath(name));
    }

    private static Path fixturePath(String name) {
        return Path.of(System.getProperty("buildhook.fixtures", "fixtures"), name);
    }

    /** Posts a fixture body signed like JobServ; returns the delivery id. */
    String deliver(String fixture) throws Exception {
        return deliverBody(Files.readAllBytes(fixturePath(fixture)));
    }

    /** Posts a body signed like JobServ; returns the delivery id. */
    String deliverBody(byte[] body) throws Exception {
        return deliverBody("default", body);
    }

    /** Posts a body signed like JobServ to the endpoint {@code endpoint}; returns the delivery id. */
    String deliverBody(String endpoint, byte[] body) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri().resolve("webhook/" + endpoint))
                .header("Content-Type", "application/json")
                .header("X-JobServ-Sig", Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 202 && r.statusCode() != 200) {
            throw new AssertionError("delivery refused: " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body()).path("delivery").asText();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(api(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The bytes of a GET of an admin API path's answer (a log, as stored); it must be 200. */
    byte[] getBytes(String path) throws Exception {
        HttpResponse<byte[]> r = http.send(api(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        org.assertj.core.api.Assertions.assertThat(r.statusCode()).isEqualTo(200);
        return r.body();
    }

    /** GET of an admin API path with this {@code Authorization} header, or none when null. */
    HttpResponse<String> getWithAuthorization(String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri().resolve("api/" + path)).GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path) throws Exception {
        return http.send(api(path).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> delete(String path) throws Exception {
        return http.send(api(path).DELETE().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** GET of a status page path (relative to the root, e.g. {@code ?job=…}) with this cookie, or none if null. */
    HttpResponse<String> page(String pathAndQuery, String cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri().resolve(pathAndQuery)).GET();
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in to the status page with {@code GET /?token=…}; returns the cookie as a {@code Cookie} value. */
    String signIn() throws Exception {
        HttpResponse<String> r = page("?token=" + token, null);
        String setCookie = r.headers().firstValue("Set-Cookie").orElse(null);
        if (r.statusCode() != 303 || setCookie == null) {
            throw new AssertionError("sign-in answered " + r.statusCode() + " " + r.headers().map());
        }
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    JsonNode getJson(String path) throws Exception {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) {
            throw new AssertionError(path + " answered " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    HttpRequest.Builder api(String path) {
        return HttpRequest.newBuilder(uri().resolve("api/" + path)).header("Authorization", "Bearer " + token);
    }

    static JsonNode json(String text) throws IOException {
        return JSON.readTree(text);
    }

    /** The only job of a delivery, once it has reached {@code state}. */
    JsonNode awaitJob(String deliveryId, String state) {
        AtomicReference<JsonNode> job = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            JsonNode jobs = getJson("deliveries/" + deliveryId).path("jobs");
            job.set(jobs.path(0));
            return jobs.size() == 1 && jobs.path(0).path("state").asText().equals(state);
        });
        return job.get();
    }

    /** The job once it has reached {@code state}. */
    JsonNode awaitJobState(String jobId, String state) {
        AtomicReference<JsonNode> job = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            job.set(getJson("jobs/" + jobId));
            return job.get().path("job").path("state").asText().equals(state);
        });
        return job.get();
    }

    @Override
    public void close() throws Exception {
        // Lets a waiting job end, so stopping does not sit out the shutdown grace.
        Files.writeString(dir.resolve("go"), "");
        server.close();
    }
}
