package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobQuery;
import org.buildhook.runner.store.JobState;
import org.buildhook.servlet.config.ConfigLoader;
import org.buildhook.servlet.it.Deliveries;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An HTTP request whose PostgreSQL call is never answered (the connection left open and silent: a backend stopped
 * with SIGSTOP, a frozen database host, a network that drops packets without a word) held the container's request
 * thread until TCP's keepalive gave up, two hours and more; enough of them and the node answered nothing, not even
 * {@code /healthz}. Each answer a request waits for is now bounded ({@code Store.look}, {@code Store.lookBound}: 30 s
 * here, the minimum), and one that did not come is a store outage: 503 with {@code Retry-After}. A real application
 * on a real PostgreSQL, its servlets in a real Jetty, real HTTP; the call that never answers is a real one, made to
 * wait on PostgreSQL's side (a trigger, a row-level security policy) until the test lets it go or ends it.
 */
class PostgresRequestWithoutAnswerTest {

    private static final PostgresSchemas SCHEMAS = new PostgresSchemas();
    /** A client's limit: far past the bound, far below TCP's keepalive (before the bound, it was reached). */
    private static final Duration CLIENT_LIMIT = Duration.ofMinutes(3);
    private static final java.net.http.HttpClient HTTP = java.net.http.HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @org.junit.jupiter.api.extension.RegisterExtension
    final LogCapture log = new LogCapture(DeliveryService.class);

    private final String sleeper = "sleep-" + java.util.UUID.randomUUID().toString().substring(0, 8);
    private String url;
    private BuildhookApplication app;
    private Server server;
    private URI base;

    @AfterAll
    static void dropSchemas() throws Exception {
        SCHEMAS.dropAll();
    }

    @BeforeEach
    void start() throws Exception {
        url = SCHEMAS.newSchemaUrl();
        Files.writeString(dir.resolve("webhook-secret"), Deliveries.SECRET + "\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: notify\n    run: {command: [/bin/true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nstore: {url: '" + url + "'}\n"
                + "rules: rules.yaml\nadmin: {token: generate}\n"
                + "endpoints: {default: {secrets: [{file: webhook-secret}]}}\n");
        app = BuildhookApplication.start(new ConfigLoader(Map.of(), dir).load(config));
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        ServletContextHandler context = new ServletContextHandler("/");
        context.setAttribute(BuildhookApplication.ATTRIBUTE, app);
        for (Routes.Route route : Routes.ALL) {
            for (String pattern : route.patterns()) {
                context.addServlet(route.servlet(), pattern).setAsyncSupported(route.async());
            }
        }
        server.setHandler(context);
        server.start();
        base = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/");
    }

    @AfterEach
    void stop() throws Exception {
        try {
            if (app != null) {
                terminateSleepers();
                release();
            }
        } finally {
            if (server != null) {
                server.stop();
            }
            if (app != null) {
                app.close();
            }
        }
    }

    private Connection sql() throws SQLException {
        return DriverManager.getConnection(url);
    }

    private int count(String query) throws SQLException {
        try (Connection c = sql(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private int terminateSleepers() throws SQLException {
        return count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '"
                + sleeper + "'");
    }

    private int sleeping() throws SQLException {
        return count("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + sleeper
                + "' AND wait_event = 'PgSleep'");
    }

    /** Lets a call waiting in {@link #waitUntilReleased} go on (it sees the row at its next look). */
    private void release() throws SQLException {
        try (Connection c = sql(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS sleep_release (x int)");
            s.execute("INSERT INTO sleep_release VALUES (1)");
        }
    }

    /**
     * PL/pgSQL that makes the first {@code times} calls that reach it wait on PostgreSQL's side, named {@link
     * #sleeper}, until {@link #release} (each look a fresh snapshot: the function is volatile) or their session's end.
     */
    private String waitUntilReleased(int times) {
        return " IF nextval('sleep_once') <= " + times + " THEN"
                + " PERFORM set_config('application_name', '" + sleeper + "', true);"
                + " WHILE NOT EXISTS (SELECT 1 FROM sleep_release) LOOP PERFORM pg_sleep(0.1); END LOOP;"
                + " END IF;";
    }

    private void prepareSleep(Statement s) throws SQLException {
        s.execute("CREATE SEQUENCE sleep_once");
        s.execute("CREATE TABLE sleep_release (x int)");
    }

    private static HttpResponse<String> get(URI uri, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(CLIENT_LIMIT)
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private String token() throws Exception {
        return Files.readString(dir.resolve("data/admin-token")).strip();
    }

    /** How long JobServ's sender waits for an answer ({@code jobserv-send}'s timeout) before it gives up and retries. */
    private static final Duration SENDER_LIMIT = Duration.ofSeconds(30);

    /**
     * The accept's statement is never answered: its request thread is given back after the accept's own bound (20 s:
     * {@code Store.senderBound}, below the sender's 30 s, so that JobServ gets the 503 and retries, bound47 F4; the
     * looks' 30 s was no shorter than JobServ's wait, which gave up first) and the delivery
     * answered 503 with Retry-After, as for any store outage. The statement commits all the same once PostgreSQL goes
     * on (a commit whose answer was lost): JobServ's retry of the same delivery is then a duplicate, and the build's job
     * runs once.
     */
    @Test
    void anAcceptThatPostgresNeverAnswersIsAnswered503AndItsRetryRunsTheJobOnce() throws Exception {
        try (Connection c = sql(); Statement s = c.createStatement()) {
            prepareSleep(s);
            s.execute("CREATE FUNCTION sleep_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + waitUntilReleased(1) + " RETURN NEW; END $$");
            s.execute("CREATE TRIGGER sleep_once BEFORE INSERT ON deliveries FOR EACH ROW EXECUTE FUNCTION"
                    + " sleep_once()");
        }
        URI webhook = base.resolve("webhook");
        byte[] body = Deliveries.seedWithBuildId(67);
        CompletableFuture<HttpResponse<String>> first = CompletableFuture.supplyAsync(() -> {
            try {
                return Deliveries.postSigned(webhook, body, SENDER_LIMIT);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() == 1);

        // Answered after the accept's bound (20 s), within the sender's 30 s (a 10-s margin for a busy machine), not
        // after TCP's keepalive nor after the sender gave up (its HttpTimeoutException fails the test).
        assertThat(app.store().senderBound()).isEqualTo(Duration.ofSeconds(20));
        HttpResponse<String> refused = first.get(CLIENT_LIMIT.toSeconds() + 10,
                java.util.concurrent.TimeUnit.SECONDS);
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(refused.body()).contains("storage unavailable, retry later");
        assertThat(sleeping()).as("PostgreSQL's side still waits: only its answer is lost").isEqualTo(1);
        // Not "not stored": it may be.
        assertThat(log.messages().stream().filter(m -> m.contains("build 67") && m.contains("503")).toList())
                .singleElement().satisfies(line -> assertThat(line).contains(
                "not answered by the store in time, answering 503", "it may be stored all the same",
                "is then answered as a duplicate and starts nothing").doesNotContain("not stored"));

        // PostgreSQL goes on, and commits what it was sent (its answer goes nowhere).
        release();
        // Its transaction over (the name is set for the transaction only): committed, or rolled back.
        await().atMost(Duration.ofSeconds(60)).until(() -> count("SELECT count(*) FROM pg_stat_activity"
                + " WHERE application_name = '" + sleeper + "'") == 0);
        assertThat(count("SELECT count(*) FROM deliveries WHERE outcome = 'ACCEPTED'"))
                .as("committed, though its answer was lost (answered 503)").isEqualTo(1);

        // JobServ sends it again: a duplicate, which starts nothing.
        HttpResponse<String> again = Deliveries.postSigned(webhook, body);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(again.body()).contains("\"duplicate\":true");
        assertThat(count("SELECT count(*) FROM deliveries WHERE outcome = 'ACCEPTED'")).isEqualTo(1);
        List<org.buildhook.runner.store.Job> jobs = app.store().jobs(new JobQuery(null, null, null, null, 10)).items();
        assertThat(jobs).as("one job for the build").hasSize(1);
        String job = jobs.get(0).id();
        await().atMost(Duration.ofSeconds(60)).until(() -> app.store().job(job).orElseThrow().job().state().isFinal());
        JobDetail ran = app.store().job(job).orElseThrow();
        assertThat(ran.job().state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(ran.attempts()).as("run once").hasSize(1);
    }

    /**
     * The same for the operator's reads: the admin API's list of deliveries (what {@code buildhook deliveries} asks)
     * and the status page, each waiting for an answer that never comes, are answered 503 with Retry-After after the
     * bound; once PostgreSQL answers again, so do they.
     */
    @Test
    void anApiReadAndTheStatusPageThatPostgresNeverAnswersAreAnswered503AfterTheBound() throws Exception {
        HttpResponse<String> stored = Deliveries.postSigned(base.resolve("webhook"), Deliveries.seedWithBuildId(67));
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(202);
        try (Connection c = sql(); Statement s = c.createStatement()) {
            prepareSleep(s);
            // The list of deliveries (StoreReader's, for the API and the page) reads each row through this policy.
            s.execute("CREATE FUNCTION sleep_once_read() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN"
                    + " IF current_query() LIKE '%FROM deliveries WHERE 1 = 1%' THEN" + waitUntilReleased(2)
                    + " END IF; RETURN true; END $$");
            s.execute("ALTER TABLE deliveries ENABLE ROW LEVEL SECURITY");
            s.execute("ALTER TABLE deliveries FORCE ROW LEVEL SECURITY");
            s.execute("CREATE POLICY sleep_once ON deliveries USING (sleep_once_read())");
        }
        String token = token();
        CompletableFuture<HttpResponse<String>> api = CompletableFuture.supplyAsync(() -> {
            try {
                return get(base.resolve("api/deliveries"), token);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        CompletableFuture<HttpResponse<String>> page = CompletableFuture.supplyAsync(() -> {
            try {
                return get(base, token);
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        await().atMost(Duration.ofSeconds(60)).until(() -> sleeping() == 2);

        assertThat(app.store().lookBound()).isEqualTo(Duration.ofSeconds(30));
        HttpResponse<String> apiAnswer = api.get(CLIENT_LIMIT.toSeconds() + 10,
                java.util.concurrent.TimeUnit.SECONDS);
        assertThat(apiAnswer.statusCode()).as(apiAnswer.body()).isEqualTo(503);
        assertThat(apiAnswer.headers().firstValue("Retry-After")).isPresent();
        assertThat(apiAnswer.body()).contains("the store is unavailable; try again later");
        HttpResponse<String> pageAnswer = page.get(CLIENT_LIMIT.toSeconds() + 10,
                java.util.concurrent.TimeUnit.SECONDS);
        assertThat(pageAnswer.statusCode()).isEqualTo(503);
        assertThat(pageAnswer.headers().firstValue("Retry-After")).isPresent();
        // Still waiting on PostgreSQL's side: ended here, as a database that answers again would end them.
        assertThat(terminateSleepers()).isEqualTo(2);

        HttpResponse<String> after = get(base.resolve("api/deliveries"), token);
        assertThat(after.statusCode()).as(after.body()).isEqualTo(200);
        assertThat(after.body()).contains(stored.body().replaceAll("(?s).*\"delivery\":\"([^\"]+)\".*", "$1"));
        assertThat(get(base, token).statusCode()).isEqualTo(200);
    }
    /**
     * delcancel50: PostgreSQL ends a transaction of an admin request to let another change of the same rows go on (a
     * deadlock, {@code 40P01}): the request was answered 500 "internal error; the server log says more", a fault there
     * was not. It is answered 503 with Retry-After, saying that step was not made and to ask again; nothing of it is
     * stored, and asked again once nothing stands in its way, it goes through. The deadlock is PostgreSQL's own error,
     * raised by a trigger where the re-run stores its job (a real deadlock's victim cannot be chosen by a test).
     */
    @Test
    void anAdminChangeThatPostgresEndsToBreakADeadlockIsAnswered503ToAskAgain() throws Exception {
        HttpResponse<String> stored = Deliveries.postSigned(base.resolve("webhook"), Deliveries.seedWithBuildId(67));
        assertThat(stored.statusCode()).as(stored.body()).isEqualTo(202);
        String job = app.store().jobs(new JobQuery(null, null, null, null, 10)).items().get(0).id();
        await().atMost(Duration.ofSeconds(60)).until(() -> app.store().job(job).orElseThrow().job().state().isFinal());
        try (Connection c = sql(); Statement s = c.createStatement()) {
            s.execute("CREATE FUNCTION deadlocked() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    + " RAISE EXCEPTION 'deadlock detected' USING ERRCODE = 'deadlock_detected'; END $$");
            s.execute("CREATE TRIGGER deadlocked BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION deadlocked()");
        }
        URI rerun = base.resolve("api/jobs/" + job + "/rerun");

        HttpResponse<String> ended = post(rerun, token());

        assertThat(ended.statusCode()).as(ended.body()).isEqualTo(503);
        assertThat(ended.headers().firstValue("Retry-After")).isPresent();
        assertThat(ended.body()).contains("the store ended this request's change to let another change of the same"
                + " jobs, made at the same moment, go on: that step of it was not made; ask again")
                .doesNotContain("internal error");
        assertThat(count("SELECT count(*) FROM jobs")).as("nothing of it stored").isEqualTo(1);

        try (Connection c = sql(); Statement s = c.createStatement()) {
            s.execute("DROP TRIGGER deadlocked ON jobs");
        }
        HttpResponse<String> again = post(rerun, token());
        assertThat(again.statusCode()).as(again.body()).isEqualTo(202);
        assertThat(count("SELECT count(*) FROM jobs")).as("asked again, it goes through").isEqualTo(2);
    }

    private static HttpResponse<String> post(URI uri, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(CLIENT_LIMIT).header("Authorization", "Bearer " + token)
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }
}
