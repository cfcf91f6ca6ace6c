package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The status page over real HTTP (no browser): absence, sign-in, the cookie, escaping, CSRF. */
class StatusPageTest {

    private static final String XSS = "<script>alert(1)</script>";

    @TempDir
    Path dir;
    AdminServer server;

    @AfterEach
    void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private HttpResponse<String> page(String pathAndQuery, String cookie) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(server.uri().resolve(pathAndQuery)).GET();
        if (cookie != null) {
            b.header("Cookie", cookie);
        }
        return server.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in with {@code GET /?token=…}; returns the cookie as a {@code Cookie} header value. */
    private String signIn() throws Exception {
        HttpResponse<String> r = page("?token=" + AdminServer.TOKEN, null);
        assertThat(r.statusCode()).isEqualTo(303);
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    @Test
    void isAbsentWhenNoAdminTokenIsConfigured() throws Exception {
        server = AdminServer.withoutAdminToken(dir);

        assertThat(page("", null).statusCode()).isEqualTo(404);
        assertThat(page("", null).body()).isEqualTo("not found\n");
        assertThat(page("?token=anything", null).statusCode()).isEqualTo(404);
        assertThat(page("?token=anything", null).headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void asksForTheTokenWithoutEchoingAWrongOne() throws Exception {
        server = AdminServer.start(dir);

        HttpResponse<String> form = page("", null);
        HttpResponse<String> wrong = page("?token=wrong-token-xyz", null);
        HttpResponse<String> wrongCookie = page("", "buildhook_admin=wrong-token-xyz");

        assertThat(form.statusCode()).isEqualTo(200);
        assertThat(form.body()).contains("<input type=\"password\" name=\"token\"").doesNotContain("deliveries");
        assertThat(form.headers().firstValue("Content-Security-Policy")).hasValueSatisfying(v -> assertThat(v)
                .contains("default-src 'none'").contains("script-src 'nonce-"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.body()).contains("not accepted").doesNotContain("wrong-token-xyz");
        assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(wrongCookie.body()).contains("name=\"token\"").doesNotContain("wrong-token-xyz");
    }

    @Test
    void signsInWithTheTokenIntoAnHttpOnlyStrictCookieAndRedirectsToTheBarePage() throws Exception {
        server = AdminServer.start(dir);
        server.deliver("build-67-passed.json");

        HttpResponse<String> login = page("?token=" + AdminServer.TOKEN, null);
        HttpResponse<String> posted = server.http.send(HttpRequest.newBuilder(server.uri())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + AdminServer.TOKEN)).build(),
                HttpResponse.BodyHandlers.ofString());
        String cookie = signIn();
        HttpResponse<String> shown = page("", cookie);

        assertThat(login.statusCode()).isEqualTo(303);
        assertThat(URI.create(login.headers().firstValue("Location").orElseThrow()).getPath()).isEqualTo("/");
        assertThat(login.headers().firstValue("Location").orElseThrow()).doesNotContain("token");
        assertThat(login.headers().firstValue("Set-Cookie")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("buildhook_admin=").contains("HttpOnly").contains("SameSite=Strict").contains("Path=/"));
        assertThat(posted.statusCode()).isEqualTo(303);
        assertThat(posted.headers().firstValue("Set-Cookie")).isPresent();
        assertThat(shown.statusCode()).isEqualTo(200);
        assertThat(shown.body()).contains("Recent deliveries").contains("andy-corp/lmp").contains("containers-devel")
                .contains("Rules in force").contains(">echo<").doesNotContain(AdminServer.TOKEN);
        assertThat(page("api/jobs", cookie).statusCode()).isEqualTo(200);
    }

    @Test
    void showsPayloadMarkupAsTextAndFiltersByTheQuery() throws Exception {
        server = AdminServer.start(dir);
        String body = Files.readString(Path.of(System.getProperty("buildhook.fixtures", "fixtures"),
                "build-67-passed.json")).replace("\"containers-devel\"", "\"" + XSS + "\"");
        server.deliverBody(body.getBytes(StandardCharsets.UTF_8));
        server.deliver("build-68-failed.json");
        String cookie = signIn();

        String all = page("", cookie).body();
        String passedOnly = page("?trigger=" + java.net.URLEncoder.encode(XSS, StandardCharsets.UTF_8), cookie)
                .body();

        assertThat(all).doesNotContain(XSS).contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                .contains("platform-main");
        assertThat(passedOnly).doesNotContain("platform-main").contains("&lt;script&gt;alert(1)&lt;/script&gt;");
        assertThat(page("?outcome=rejected", cookie).body()).contains("No deliveries match.");
        assertThat(page("?outcome=nope", cookie).statusCode()).isEqualTo(400);
    }

    @Test
    void showsAJobsAttemptsAndLog() throws Exception {
        server = AdminServer.start(dir);
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String cookie = signIn();

        HttpResponse<String> job = page("?job=" + jobId, cookie);

        assertThat(job.statusCode()).isEqualTo(200);
        assertThat(job.body()).contains("Log of attempt 1").contains("line one\nline two 67\n")
                .contains("SUCCEEDED");
        assertThat(page("?job=01AAAAAAAAAAAAAAAAAAAAAAAA", cookie).statusCode()).isEqualTo(404);
    }

    @Test
    void showsTheRulesInForceAndTheLastRefusedRulesFilesError() throws Exception {
        server = AdminServer.start(dir);
        String cookie = signIn();
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: <broken>\n    colour: red\n");
        server.app().rules().checkNow();

        String html = page("", cookie).body();

        assertThat(html).contains("Rules in force").contains("2 rule(s)").contains("<summary>echo</summary>")
                .contains("<summary>wait</summary>").contains("id=\"rules-error\"").contains("rules.yaml")
                .doesNotContain("<broken>");
    }

    @Test
    void requiresTheCsrfHeaderForPostsMadeWithTheCookie() throws Exception {
        server = AdminServer.start(dir);
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String cookie = signIn();
        HttpRequest.Builder rerun = HttpRequest.newBuilder(server.uri().resolve("api/jobs/" + jobId + "/rerun"))
                .header("Cookie", cookie).POST(HttpRequest.BodyPublishers.noBody());

        HttpResponse<String> without = server.http.send(rerun.build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> with = server.http.send(rerun.header("X-Buildhook-Request", "1").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(without.statusCode()).isEqualTo(401);
        assertThat(with.statusCode()).isEqualTo(202);
        assertThat(server.getJson("jobs?rule=echo").path("items")).hasSize(2);
    }
}
