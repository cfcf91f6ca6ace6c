package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Pattern;
import org.buildhook.distribution.AdminServerExtension.WithoutAdminToken;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The status page over real HTTP (no browser): absence, sign-in, the cookie, escaping, paging, CSRF. */
@ExtendWith(AdminServerExtension.class)
class StatusPageTest {

    private static final String XSS = "<script>alert(1)</script>";
    private static final Pattern ROW = Pattern.compile("<tr class=\"delivery[^\"]*\" data-id=\"(\\w+)\"");
    private static final Pattern OLDER = Pattern.compile("<a id=\"older\" href=\"([^\"]+)\"");

    @Test
    void isAbsentWhenNoAdminTokenIsConfigured(@WithoutAdminToken AdminServer server) throws Exception {
        assertThat(server.page("", null).statusCode()).isEqualTo(404);
        assertThat(server.page("", null).body()).isEqualTo("not found\n");
        assertThat(server.page("?token=anything", null).statusCode()).isEqualTo(404);
        assertThat(server.page("?token=anything", null).headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void asksForTheTokenWithoutEchoingAWrongOne(AdminServer server) throws Exception {
        HttpResponse<String> form = server.page("", null);
        HttpResponse<String> wrong = server.page("?token=wrong-token-xyz", null);
        HttpResponse<String> wrongCookie = server.page("", "buildhook_admin=wrong-token-xyz");

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
    void signsInWithTheTokenIntoAnHttpOnlyStrictCookieAndRedirectsToTheBarePage(AdminServer server) throws Exception {
        server.deliver("build-67-passed.json");

        HttpResponse<String> login = server.page("?token=" + AdminServer.TOKEN, null);
        HttpResponse<String> posted = server.http.send(HttpRequest.newBuilder(server.uri())
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("token=" + AdminServer.TOKEN)).build(),
                HttpResponse.BodyHandlers.ofString());
        String cookie = server.signIn();
        HttpResponse<String> shown = server.page("", cookie);

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
        assertThat(server.page("api/jobs", cookie).statusCode()).isEqualTo(200);
    }

    @Test
    void showsPayloadMarkupAsTextAndFiltersByTheQuery(AdminServer server) throws Exception {
        String body = AdminServer.fixture("build-67-passed.json").replace("\"containers-devel\"", "\"" + XSS + "\"");
        server.deliverBody(body.getBytes(StandardCharsets.UTF_8));
        server.deliver("build-68-failed.json");
        String cookie = server.signIn();

        String all = server.page("", cookie).body();
        String passedOnly = server.page("?trigger=" + java.net.URLEncoder.encode(XSS, StandardCharsets.UTF_8), cookie)
                .body();

        assertThat(all).doesNotContain(XSS).contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                .contains("platform-main");
        assertThat(passedOnly).doesNotContain("platform-main").contains("&lt;script&gt;alert(1)&lt;/script&gt;");
        assertThat(server.page("?outcome=rejected", cookie).body()).contains("No deliveries match.");
        assertThat(server.page("?outcome=nope", cookie).statusCode()).isEqualTo(400);
    }

    @Test
    void pagesBackThroughEveryDeliveryWithTheOlderLinkKeepingTheFilters(AdminServer server) throws Exception {
        String promoted = AdminServer.fixture("build-412-promoted.json");
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 120; i++) {
            if (i == 30 || i == 90) {
                server.deliver("build-67-passed.json"); // andy-corp/lmp: the filter leaves it out
            }
            sent.add(server.deliverBody(promoted.replace("\"build_id\": 412", "\"build_id\": " + (1000 + i))
                    .getBytes(StandardCharsets.UTF_8)));
        }
        String cookie = server.signIn();

        List<List<String>> pages = new ArrayList<>();
        List<String> headings = new ArrayList<>();
        String next = "?project=acme%2Flmp";
        while (next != null && pages.size() < 10) {
            HttpResponse<String> page = server.page(next, cookie);
            assertThat(page.statusCode()).as(next).isEqualTo(200);
            pages.add(ROW.matcher(page.body()).results().map(m -> m.group(1)).toList());
            headings.add(page.body().contains("<h2>Recent deliveries</h2>") ? "recent" : "older");
            next = OLDER.matcher(page.body()).results().map(m -> m.group(1).replace("&amp;", "&")).findFirst()
                    .orElse(null);
            if (next != null) {
                assertThat(next).startsWith("?project=acme%2Flmp&before=");
            }
        }

        assertThat(pages).extracting(List::size).containsExactly(50, 50, 20);
        List<String> newestFirst = new ArrayList<>(sent);
        Collections.reverse(newestFirst);
        assertThat(pages.stream().flatMap(List::stream).toList()).containsExactlyElementsOf(newestFirst);
        assertThat(headings).containsExactly("recent", "older", "older");
        assertThat(server.page("?before=not-an-id", cookie).statusCode()).isEqualTo(400);
    }

    @Test
    void showsAJobsAttemptsAndLog(AdminServer server) throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String cookie = server.signIn();

        HttpResponse<String> job = server.page("?job=" + jobId, cookie);

        assertThat(job.statusCode()).isEqualTo(200);
        assertThat(job.body()).contains("Log of attempt 1").contains("line one\nline two 67\n")
                .contains("SUCCEEDED");
        assertThat(server.page("?job=01AAAAAAAAAAAAAAAAAAAAAAAA", cookie).statusCode()).isEqualTo(404);
    }

    /**
     * tryout21 F4: the Rules table listed the rules alone; a workflow whose second step always failed
     * showed its rule at 100%, and the failing step in no row. Each follow-up step has its own row
     * under its rule now, with its last job and its own success share; a step not run yet says so.
     */
    @Test
    void theRulesTableShowsEachFollowUpStepUnderItsRuleWithItsOwnSuccessShare(AdminServer server) throws Exception {
        server.replaceRules("rules:\n  - name: chain\n    run:\n      command: [/bin/true]\n"
                + "    on-success:\n      command: [/bin/sh, -c, 'exit 3']\n"
                + "      on-failure:\n        command: [/bin/true]\n"
                + "    on-failure:\n      command: [/bin/true]\n");
        server.app().rules().checkNow();
        String delivery = server.deliver("build-67-passed.json");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() -> server.getJson(
                "deliveries/" + delivery).path("jobs").findValuesAsText("state").size() == 3
                && server.getJson("deliveries/" + delivery).path("jobs").findValuesAsText("state").stream()
                        .noneMatch(s -> s.equals("QUEUED") || s.equals("RUNNING")));
        String cookie = server.signIn();

        String html = server.page("", cookie).body();

        String table = html.substring(html.indexOf("id=\"rule-health\""), html.indexOf("</table>",
                html.indexOf("id=\"rule-health\"")));
        assertThat(table.split("<tr class=\"rule")).extracting(row -> row.replaceFirst("(?s)^[^>]*data-rule=\"([^\"]*)\".*$", "$1"))
                .as("each step under its rule, before the rule's other steps").containsSubsequence("chain",
                        "chain/on-success", "chain/on-success/on-failure", "chain/on-failure");
        assertThat(row(table, "chain")).contains("SUCCEEDED").contains("100% <small>of 1</small>");
        assertThat(row(table, "chain/on-success")).contains("FAILED").contains("0% <small>of 1</small>")
                .contains("class=\"step1\"");
        assertThat(row(table, "chain/on-success/on-failure")).contains("SUCCEEDED").contains("class=\"step2\"");
        assertThat(row(table, "chain/on-failure")).contains("no job yet");
    }

    private static String row(String table, String rule) {
        int start = table.indexOf("data-rule=\"" + rule + "\"");
        assertThat(start).as("a row of " + rule).isNotNegative();
        return table.substring(start, table.indexOf("</tr>", start));
    }

    /**
     * A job's page linked neither to the job it follows nor to its follow-ups, and an unknown job
     * (deleted by retention, a mistyped link) answered "no such path; webhooks go to POST /webhook"
     * (tryout11 F2).
     */
    @Test
    void aJobsPageLinksTheJobItFollowsAndItsFollowUpsAndAnUnknownJobSaysWhy(AdminServer server) throws Exception {
        server.replaceRules("rules:\n  - name: chain\n    run:\n      command: [/bin/true]\n"
                + "    on-success:\n      command: [/bin/true]\n");
        server.app().rules().checkNow();
        String delivery = server.deliver("build-67-passed.json");
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> server.getJson(
                "deliveries/" + delivery).path("jobs").findValuesAsText("state").equals(List.of("SUCCEEDED", "SUCCEEDED")));
        com.fasterxml.jackson.databind.JsonNode jobs = server.getJson("deliveries/" + delivery).path("jobs");
        String followUp = AdminCommandsTest.byRule(jobs, "chain/on-success");
        String parent = AdminCommandsTest.byRule(jobs, "chain");
        String cookie = server.signIn();

        assertThat(server.page("?job=" + followUp, cookie).body())
                .contains("<th>Follows</th><td><a class=\"job\" href=\"?job=" + parent + "\">")
                .doesNotContain("<th>Follow-ups</th>");
        assertThat(server.page("?job=" + parent, cookie).body())
                .contains("<th>Follow-ups</th><td><a class=\"job\" href=\"?job=" + followUp + "\">chain/on-success</a>")
                .doesNotContain("<th>Follows</th>");
        HttpResponse<String> unknown = server.page("?job=01AAAAAAAAAAAAAAAAAAAAAAAA", cookie);
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknown.body()).contains("No job <code>01AAAAAAAAAAAAAAAAAAAAAAAA</code>")
                .contains("store.retention").doesNotContain("webhooks go to");
    }

    /**
     * A job's page said neither who approved a deploy nor who cancelled or re-ran a job: the audit trail
     * was only in the admin API's {@code actions} (tryout16 F6). It lists the job's actions now.
     */
    @Test
    void aJobsPageSaysWhoApprovedItAndWhen(AdminServer server) throws Exception {
        server.replaceRules("rules:\n  - name: gated\n    approval: {}\n    run:\n      command: [/bin/true]\n");
        server.app().rules().checkNow();
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "AWAITING_APPROVAL").path("id").asText();
        String cookie = server.signIn();
        assertThat(server.page("?job=" + jobId, cookie).body()).doesNotContain("<th>Actions</th>");

        assertThat(server.post("jobs/" + jobId + "/approve").statusCode()).isEqualTo(200);
        server.awaitJobState(jobId, "SUCCEEDED");

        assertThat(server.page("?job=" + jobId, cookie).body())
                .containsPattern("<th>Actions</th><td><time datetime=\"[^\"]+\">[^<]+</time> approve by token@[^<]+</td>");
    }

    /**
     * A filter the page cannot use answered the webhook's JSON error in the browser,
     * {@code {"error":…,"webhook":"/webhook"}} (tryout11 F4): it is a page that says what is wrong
     * and links back; the live part keeps its plain answer.
     */
    @Test
    void aFilterThePageCannotUseIsAPageSayingWhyWithALinkBack(AdminServer server) throws Exception {
        String cookie = server.signIn();

        for (String query : List.of("?state=bogus", "?outcome=bogus", "?before=not-an-id")) {
            HttpResponse<String> page = server.page(query, cookie);
            assertThat(page.statusCode()).as(query).isEqualTo(400);
            assertThat(page.headers().firstValue("Content-Type").orElse("")).as(query).startsWith("text/html");
            assertThat(page.body()).as(query).contains("<h2>This filter cannot be used</h2>")
                    .contains("<a href=\"./\">Show all deliveries</a>").doesNotContain("\"webhook\"");
        }
        assertThat(server.page("?state=bogus", cookie).body()).contains("&#39;state&#39; must be one of");
        assertThat(server.page("?state=bogus&part=live", cookie).statusCode()).isEqualTo(400);
    }

    /**
     * A parameter the page does not know was ignored (tryout11 F4): {@code /?buid=67}, a misspelt
     * filter, showed every delivery as if they matched, while the admin API answers 400 "unknown
     * filter". It is the same page saying why as a bad value, on the list and on a job's page.
     */
    @Test
    void aParameterThePageDoesNotKnowIsAPageSayingWhichAndWhatItKnows(AdminServer server) throws Exception {
        String job = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String cookie = server.signIn();

        for (String query : List.of("?colour=red", "?buid=67", "?project=a&colour=red", "?job=" + job + "&state=failed",
                "?part=everything", "?build=67a", "?build=-1")) {
            HttpResponse<String> page = server.page(query, cookie);
            assertThat(page.statusCode()).as(query).isEqualTo(400);
            assertThat(page.headers().firstValue("Content-Type").orElse("")).as(query).startsWith("text/html");
            assertThat(page.body()).as(query).contains("<h2>This filter cannot be used</h2>")
                    .contains("<a href=\"./\">Show all deliveries</a>");
        }
        assertThat(server.page("?colour=red", cookie).body()).contains("unknown parameter &#39;colour&#39;; this page"
                + " knows outcome, project, trigger, build, state, delivery, before, part");
        assertThat(server.page("?job=" + job + "&state=failed", cookie).body())
                .contains("unknown parameter &#39;state&#39;; this page knows job, part");
        assertThat(server.page("?build=67a", cookie).body()).contains("&#39;build&#39; must be a build number");
        HttpResponse<String> live = server.page("?colour=red&part=live", cookie);
        assertThat(live.statusCode()).isEqualTo(400);
        assertThat(live.body()).doesNotContain("<h2>");
        // What the page itself asks for is known: its form (empty fields included), its live part, a job's page.
        assertThat(server.page("?outcome=&project=&trigger=&build=&state=", cookie).statusCode()).isEqualTo(200);
        assertThat(server.page("?build=67&part=live", cookie).statusCode()).isEqualTo(200);
        assertThat(server.page("?job=" + job + "&part=live", cookie).statusCode()).isEqualTo(200);
    }

    /**
     * The page had no build filter, while {@code buildhook deliveries --build N} and
     * {@code /api/deliveries?build=N} do (tryout11 F5): it has, with the same meaning, in its form and
     * its links.
     */
    @Test
    void filtersByBuildNumberAsTheAdminApiAndTheCommandDo(AdminServer server) throws Exception {
        server.deliver("build-67-passed.json");
        server.deliver("build-68-failed.json");
        String cookie = server.signIn();

        String page = server.page("?build=68", cookie).body();

        List<String> shown = ROW.matcher(page).results().map(m -> m.group(1)).toList();
        assertThat(shown).hasSize(1).containsExactlyElementsOf(
                server.getJson("deliveries?build=68").path("items").findValuesAsText("id"));
        assertThat(page).contains("<input name=\"build\" inputmode=\"numeric\" size=\"8\" value=\"68\">")
                .contains("platform-main");
        assertThat(ROW.matcher(server.page("?build=70", cookie).body()).results().count()).isZero();
        assertThat(ROW.matcher(server.page("", cookie).body()).results().count()).isEqualTo(2);
    }

    @Test
    void showsTheRulesInForceAndTheLastRefusedRulesFilesError(AdminServer server) throws Exception {
        String cookie = server.signIn();
        server.replaceRules("rules:\n  - name: <broken>\n    colour: red\n");
        server.app().rules().checkNow();

        String html = server.page("", cookie).body();

        assertThat(html).contains("Rules in force").contains("2 rule(s)").contains("<summary>echo</summary>")
                .contains("<summary>wait</summary>").contains("id=\"rules-error\"").contains("rules.yaml")
                .doesNotContain("<broken>");
        assertThat(html.indexOf("id=\"rules-banner\"")).as("the banner comes first").isPositive()
                .isLessThan(html.indexOf("id=\"summary\""));
        assertThat(server.page("?part=live", cookie).body()).contains("id=\"rules-banner\"");
    }

    /** The rules in force show each rule as written, except secret-looking env values (as the job's env). */
    @Test
    void theRulesInForceMaskSecretLookingEnvValues(AdminServer server) throws Exception {
        String cookie = server.signIn();
        server.replaceRules("rules:\n  - name: tokrule\n    when: {trigger: tok}\n    run:\n      command: [/bin/true]\n"
                + "      env: {DEPLOY_TOKEN: literal-secret-value-42, TARGET: staging}\n");
        server.app().rules().checkNow();

        String html = server.page("", cookie).body();

        assertThat(html).contains("<summary>tokrule</summary>").contains("&quot;TARGET&quot;:&quot;staging&quot;")
                .contains("&quot;DEPLOY_TOKEN&quot;:&quot;***&quot;").doesNotContain("literal-secret-value-42");
    }

    @Test
    void aTokenLinkToAJobSignsInAndLandsOnThatJobWithItsOtherParameters(AdminServer server) throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();

        HttpResponse<String> login = server.page("?token=" + AdminServer.TOKEN + "&job=" + jobId, null);
        HttpResponse<String> filtered = server.page("?project=andy-corp%2Flmp&token=" + AdminServer.TOKEN
                + "&state=SUCCEEDED", null);

        assertThat(login.statusCode()).isEqualTo(303);
        assertThat(login.headers().firstValue("Location")).hasValue("/?job=" + jobId);
        assertThat(filtered.headers().firstValue("Location")).hasValue("/?project=andy-corp%2Flmp&state=SUCCEEDED");
    }

    @Test
    void theHeaderCountsTheLastDayAndTheRefusedSignaturesWithTheirReasonButNoSecret(AdminServer server)
            throws Exception {
        String passed = server.deliver("build-67-passed.json");
        server.awaitJob(passed, "SUCCEEDED");
        server.deliver("build-67-passed.json");
        String failed = server.deliver("build-68-failed.json");
        server.awaitJob(failed, "RUNNING");
        byte[] body = AdminServer.fixture("build-67-passed.json").getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> refused = server.http.send(HttpRequest.newBuilder(server.uri().resolve("webhook"))
                .header("X-JobServ-Sig", "sha256:" + "ab".repeat(32))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
        String cookie = server.signIn();

        String html = server.page("", cookie).body();

        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(html).contains("id=\"tile-deliveries\" data-value=\"3\"").contains("2 accepted")
                .contains("1 duplicate").contains("id=\"tile-jobs\" data-value=\"2\"")
                .contains("id=\"tile-running\" data-value=\"1\"").contains("id=\"tile-queued\" data-value=\"0\"")
                .contains("id=\"tile-failures\" data-value=\"0\"").contains("id=\"tile-refused\" data-value=\"1\"")
                .contains("no configured secret matches").doesNotContain(AdminServer.SECRET)
                .doesNotContain("ab".repeat(32));
        assertThat(html).contains("<tr class=\"rule\" data-rule=\"echo\">").contains("<svg class=\"chart history\"")
                .contains("100% <small>of 1</small>");
    }

    @Test
    void theLivePartIsTheChangingPartsAloneAndNeedsTheCookie(AdminServer server) throws Exception {
        String jobId = server.awaitJob(server.deliver("build-68-failed.json"), "RUNNING").path("id").asText();
        String cookie = server.signIn();

        HttpResponse<String> live = server.page("?part=live", cookie);
        HttpResponse<String> jobLive = server.page("?job=" + jobId + "&part=live", cookie);
        HttpResponse<String> signedOut = server.page("?part=live", null);

        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(live.body()).contains("id=\"live-top\" data-live").contains("id=\"live-deliveries\" class=\"scroll-x\" data-live")
                .contains("data-poll=").doesNotContain("<script");
        assertThat(jobLive.body()).contains("id=\"job-live\" data-live").contains("data-poll=")
                .contains("RUNNING");
        assertThat(signedOut.statusCode()).isEqualTo(401);
        Files.writeString(server.dir.resolve("go"), "");
        server.awaitJobState(jobId, "SUCCEEDED");
        // page30: the finished job's page keeps asking, every 10 s, for its state only: no attempts, no log.
        assertThat(server.page("?job=" + jobId + "&part=live", cookie).body())
                .contains("data-poll=\"10000\" data-live-part=\"final\"").contains("finished");
        HttpResponse<String> state = server.page("?job=" + jobId + "&part=final", cookie);
        assertThat(state.statusCode()).isEqualTo(200);
        assertThat(state.body()).contains("data-poll=\"10000\" data-live-part=\"final\"")
                .contains("id=\"job-live\" data-live").contains("SUCCEEDED").doesNotContain("job-log-live")
                .doesNotContain("finished");
        assertThat(server.page("?part=final", cookie).statusCode()).isEqualTo(400);
    }

    @Test
    void requiresTheCsrfHeaderForPostsMadeWithTheCookie(AdminServer server) throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String cookie = server.signIn();
        HttpRequest.Builder rerun = HttpRequest.newBuilder(server.uri().resolve("api/jobs/" + jobId + "/rerun"))
                .header("Cookie", cookie).POST(HttpRequest.BodyPublishers.noBody());

        HttpResponse<String> without = server.http.send(rerun.build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> with = server.http.send(rerun.header("X-Buildhook-Request", "1").build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(without.statusCode()).isEqualTo(401);
        // tryout36 F12: told what is missing, not to send a Bearer header.
        assertThat(AdminServer.json(without.body()).path("error").asText()).isEqualTo("a POST authenticated by the"
                + " admin cookie needs the header X-Buildhook-Request: 1 (protection against cross-site request"
                + " forgery; the status page's own buttons send it), or send 'Authorization: Bearer <admin token>'"
                + " instead of the cookie");
        assertThat(with.statusCode()).isEqualTo(202);
        assertThat(server.getJson("jobs?rule=echo").path("items")).hasSize(2);
    }

    /**
     * delcancel50: the delivery's Cancel on the page is protected exactly as a job's Cancel: its request needs the
     * admin token (the page's cookie, or a Bearer header), and one made with the cookie needs the page's CSRF header,
     * which a form or script of another site cannot send (a cross-site fetch with it needs a preflight, which gets no
     * CORS permission). Each refusal cancels nothing; the page's own request cancels the delivery's running job.
     */
    @Test
    void theCancelOfADeliveryIsRefusedWithoutTheTokenOrFromAnotherSiteAsAJobsCancelIs(AdminServer server)
            throws Exception {
        String delivery = server.deliver("build-68-failed.json");
        String job = server.awaitJob(delivery, "RUNNING").path("id").asText();
        String cookie = server.signIn();
        String page = server.page("", cookie).body();
        assertThat(page).contains("<button type=\"button\" class=\"cancel-delivery\" data-post=\"api/deliveries/"
                + delivery + "/cancel\" data-confirm=\"Cancel the jobs of delivery " + delivery + " (build 68 of"
                + " andy-corp/lmp) that have not ended (1 when this page was drawn)?");
        URI cancel = server.uri().resolve("api/deliveries/" + delivery + "/cancel");
        HttpRequest.BodyPublisher none = HttpRequest.BodyPublishers.noBody();

        // No token at all: refused.
        HttpResponse<String> anonymous = server.http.send(HttpRequest.newBuilder(cancel).POST(none).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        // A wrong token in the cookie, with the CSRF header: refused.
        HttpResponse<String> wrong = server.http.send(HttpRequest.newBuilder(cancel).POST(none)
                .header("Cookie", "buildhook_admin=not-the-token").header("X-Buildhook-Request", "1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(wrong.statusCode()).isEqualTo(401);
        // Another site's form posting with the reader's cookie (were the browser to send it): no CSRF header, refused.
        HttpResponse<String> forged = server.http.send(HttpRequest.newBuilder(cancel).POST(none)
                .header("Cookie", cookie).header("Origin", "https://evil.example")
                .header("Content-Type", "application/x-www-form-urlencoded").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(AdminServer.json(forged.body()).path("error").asText()).startsWith("a POST authenticated by the"
                + " admin cookie needs the header X-Buildhook-Request: 1");
        // Another site's script would need a preflight to send the header: it is not allowed.
        HttpResponse<String> preflight = server.http.send(HttpRequest.newBuilder(cancel)
                .method("OPTIONS", none).header("Origin", "https://evil.example")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "x-buildhook-request").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(preflight.statusCode()).isGreaterThanOrEqualTo(400);
        assertThat(preflight.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(server.getJson("jobs/" + job).path("job").path("cancelRequested").asBoolean(true)).isFalse();
        assertThat(server.getJson("actions?delivery=" + delivery).path("items")).isEmpty();

        // The page's own request: cancelled.
        HttpResponse<String> own = server.http.send(HttpRequest.newBuilder(cancel).POST(none)
                .header("Cookie", cookie).header("X-Buildhook-Request", "1").build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(own.statusCode()).isEqualTo(200);
        assertThat(AdminServer.json(own.body()).path("cancelled").asInt()).isEqualTo(1);
        assertThat(server.getJson("jobs/" + job).path("job").path("cancelRequested").asBoolean()).isTrue();
    }
}
