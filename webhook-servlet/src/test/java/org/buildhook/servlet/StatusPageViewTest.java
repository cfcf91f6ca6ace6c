package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.runner.JobWorkflow;
import org.buildhook.runner.store.Activity;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobState;
import org.junit.jupiter.api.Test;

/** The status page's HTML: payload markup shows as text, never as markup. */
class StatusPageViewTest {

    private static final String XSS = "<script>alert(1)</script>";
    private static final Instant AT = Instant.parse("2026-11-29T04:00:00Z");

    private static final StatusPageView.RulesInfo RULES = new StatusPageView.RulesInfo("rules.yaml", AT, Map.of(),
            Optional.empty());

    private static final StatusSummary QUIET = new StatusSummary(new Activity(AT, Map.of(), Map.of()), 0, 0, 0,
            Optional.empty(), 0);

    private static String page(String nonce, StatusPageView.RulesInfo rules, StatusPageView.Filters filters,
            List<StatusPageView.DeliveryRow> rows, StatusPagePaging paging) {
        return StatusPageView.page(nonce, new StatusPageView.Live(QUIET, rules, List.of(), rows, paging, filters));
    }

    private static Job job(String runName) {
        return new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", "rule\"><b>x</b>", "{}",
                List.of("/bin/echo", XSS), Map.of(), Path.of("/tmp"), false, Duration.ofSeconds(30), 0,
                Duration.ofSeconds(1), 1, runName, JobState.QUEUED, 0, null, AT, null, null, null, null, XSS,
                false, null);
    }

    /**
     * tryout22 F2: a store that can be read but takes no delivery is a red banner first of all, in the words of
     * /healthz and the log's detail (a file name is text, never markup), with since when; none while it writes.
     */
    @Test
    void aStoreThatTakesNoDeliveryIsTheFirstBannerWithItsReasonItsDetailAndSinceWhen() {
        StatusPageView.Live quiet = new StatusPageView.Live(QUIET, RULES, List.of(), List.of(), StatusPagePaging.ONLY,
                StatusPageView.Filters.NONE, StatusResources.NONE, Optional.of("jobs do not start on this node: x"));
        assertThat(StatusPageView.live(quiet)).doesNotContain("store-banner");

        StatusPageView.Live locked = new StatusPageView.Live(QUIET, RULES, List.of(), List.of(), StatusPagePaging.ONLY,
                StatusPageView.Filters.NONE, StatusResources.NONE, Optional.of("jobs do not start on this node: x"),
                Optional.of(new org.buildhook.runner.store.StoreTrouble(AT, "the store cannot write: its SQLite"
                        + " database is locked by another program; see the server log", "SQLite database /d/" + XSS
                        + ".db is locked by another program")));
        String html = StatusPageView.live(locked);
        assertThat(html).doesNotContain(XSS).contains("/d/&lt;script&gt;alert(1)&lt;/script&gt;.db");
        assertThat(html.indexOf("id=\"store-banner\"")).as("first of the banners").isPositive()
                .isLessThan(html.indexOf("id=\"jobs-paused-banner\""));
        assertThat(html).contains("<strong>Deliveries are answered 503 since <time datetime=\"2026-11-29T04:00:00Z\">"
                + "2026-11-29 04:00:00 UTC</time>, and jobs are not started.</strong>")
                .contains("The store cannot write: its SQLite database is locked by another program; see the server log.")
                .contains("goes away by itself");

        // Only the pool of jobs gives no connection: deliveries are still stored, and the banner does not say otherwise.
        String jobsOnly = StatusPageView.live(new StatusPageView.Live(QUIET, RULES, List.of(), List.of(),
                StatusPagePaging.ONLY, StatusPageView.Filters.NONE, StatusResources.NONE, Optional.empty(),
                Optional.of(new org.buildhook.runner.store.StoreTrouble(AT, "the store gives this node no connection:"
                        + " its connection pool buildhook-scheduler has given none for 9 s", null, false))));
        assertThat(jobsOnly).contains("<strong>Jobs are not started on this node since").contains("deliveries are"
                + " still stored.</strong>").doesNotContain("answered 503").doesNotContain("store-detail");
    }

    @Test
    void rendersADeliveryWhoseRunTriggerAndProjectContainMarkupAsText() {
        Delivery d = new Delivery("01DELAAAAAAAAAAAAAAAAAAAAA", "default", AT, "127.0.0.1", Map.of(), "hash",
                DeliveryOutcome.ACCEPTED, null, null, new byte[0],
                new DeliverySummary(67L, "PASSED", "<img src=x onerror=alert(2)>", "f", XSS));

        String html = page("n0nce", new StatusPageView.RulesInfo("rules.yaml", AT,
                Map.of("<i>rule</i>", "{\"run\":\"" + XSS + "\"}"), Optional.of("rules.yaml:1:1: <bad>")),
                new StatusPageView.Filters(null, "\"><script>", null, null),
                List.of(new StatusPageView.DeliveryRow(d, List.of(job(XSS)))), StatusPagePaging.ONLY);

        assertThat(html).doesNotContain(XSS).doesNotContain("<img").doesNotContain("<i>rule")
                .doesNotContain("<bad>").doesNotContain("\"><script>").doesNotContain("<b>x</b>");
        assertThat(html).contains("&lt;script&gt;alert(1)&lt;/script&gt;")
                .contains("&lt;img src=x onerror=alert(2)&gt;")
                .contains("&lt;i&gt;rule&lt;/i&gt;")
                .contains("value=\"&quot;&gt;&lt;script&gt;\"")
                .contains("rules.yaml:1:1: &lt;bad&gt;");
        assertThat(html).contains("<script nonce=\"n0nce\">").contains("data-post=\"api/jobs/01JOBAAAAAAAAAAAAAAAAAAAAA/cancel\"");
    }

    @Test
    void theSignedInPageNamesTheBuildThatRunsAndTheSignInFormDoesNot() {
        String html = page("n", RULES, StatusPageView.Filters.NONE, List.of(), StatusPagePaging.ONLY);

        assertThat(html).contains("<footer class=\"build\" id=\"build\">buildhook " + BuildInfo.version()
                + " (commit " + BuildInfo.revision() + ")</footer>");
        assertThat(StatusPageView.login("n", false)).doesNotContain(BuildInfo.version()).doesNotContain("commit");
    }

    /**
     * tryout47b F15: the sign-in form said only "the admin.token of buildhook's configuration"; with the shipped
     * {@code token: generate} the operator needs to know it is the data folder's file {@code admin-token}. Said without
     * the folder's path (the form is shown to anyone).
     */
    @Test
    void theSignInFormSaysWhereAGeneratedTokenIsWithoutThePath() {
        assertThat(StatusPageView.login("n", false)).contains("<code>token: generate</code>")
                .contains("the file <code>admin-token</code> in buildhook's data folder")
                .contains("cat DATA-DIR/admin-token").doesNotContain("/var/lib");
    }

    @Test
    void aJobAwaitingAnApprovalHasApproveAndRejectButtonsAndOthersHaveNone() {
        Job queued = job(null);
        Job awaiting = new Job(queued.id(), queued.deliveryId(), "deploy", "{}", queued.argv(), Map.of(), null, false,
                queued.timeout(), 0, queued.backoff(), 0, null, JobState.AWAITING_APPROVAL, 0, null, AT, null, null,
                null, null, null, false, null);
        StringBuilder waiting = new StringBuilder();
        StringBuilder other = new StringBuilder();

        StatusPageView.actions(waiting, awaiting);
        StatusPageView.actions(other, queued);

        assertThat(waiting.toString())
                .contains("data-post=\"api/jobs/01JOBAAAAAAAAAAAAAAAAAAAAA/approve\" data-preview=\"api/jobs/"
                        + "01JOBAAAAAAAAAAAAAAAAAAAAA/approve-warnings\" data-confirm=\"Approve job deploy"
                        + " (01JOBAAAAAAAAAAAAAAAAAAAAA)? It starts as soon as its rule allows; this cannot be undone.\">"
                        + "Approve</button>")
                .contains("data-post=\"api/jobs/01JOBAAAAAAAAAAAAAAAAAAAAA/reject\" data-confirm=\"Reject job deploy"
                        + " (01JOBAAAAAAAAAAAAAAAAAAAAA)? It does not run; this cannot be undone.\">Reject</button>")
                .contains("/cancel");
        assertThat(other.toString()).doesNotContain("/approve").doesNotContain("/reject");
        // tryout16 F8: no Re-run of a job that has not run yet (a second job of the same build beside it).
        assertThat(waiting.toString()).doesNotContain("/rerun");
        // tryout33 F10: Cancel asks first too, naming the rule (escaped: this one is markup) and what it does.
        assertThat(other.toString()).doesNotContain("/rerun").contains("/cancel\" data-confirm=\"Cancel job"
                + " rule&quot;&gt;&lt;b&gt;x&lt;/b&gt; (01JOBAAAAAAAAAAAAAAAAAAAAA)? It does not start. This cannot be"
                + " undone.\">Cancel</button>").doesNotContain("<b>");
        StringBuilder ended = new StringBuilder();
        StatusPageView.actions(ended, new Job(queued.id(), queued.deliveryId(), "deploy", "{}", queued.argv(),
                Map.of(), null, false, queued.timeout(), 0, queued.backoff(), 0, null, JobState.SUCCEEDED, 1, 0, AT,
                AT, AT, null, null, null, false, null));
        // tryout34 F4: Re-run asks first too (its words: reRunAndReplayAskFirstNamingTheBuildAndWhatRuns).
        assertThat(ended.toString()).startsWith("<button type=\"button\" data-post=\"api/jobs/01JOBAAAAAAAAAAAAAAAAAAAAA"
                + "/rerun\" data-preview=\"api/jobs/01JOBAAAAAAAAAAAAAAAAAAAAA/rerun-warnings\""
                + " data-confirm=\"Re-run job deploy (01JOBAAAAAAAAAAAAAAAAAAAAA)? Its command runs again now as a"
                + " new job.\">Re-run</button>");
        assertThat(StatusPageView.chip(JobState.AWAITING_APPROVAL)).contains("tone-waiting");
        assertThat(StatusPageView.chip(JobState.WAITING)).contains("tone-waiting");
        assertThat(StatusPageView.chip(JobState.SUPERSEDED)).contains("tone-neutral");
    }

    @Test
    void theBuildFilterIsKeptByThePagingLinks() {
        StatusPageView.Filters filters = new StatusPageView.Filters(null, null, null, JobState.FAILED, 67L);

        assertThat(filters.query()).isEqualTo("build=67&state=FAILED");
        assertThat(page("n", RULES, filters, List.of(), new StatusPagePaging(null, "01OLDERAAAAAAAAAAAAAAAAAAA")))
                .contains("<a id=\"older\" href=\"?build=67&amp;state=FAILED&amp;before=01OLDERAAAAAAAAAAAAAAAAAAA\">")
                .contains("value=\"67\"");
    }

    @Test
    void linksToOlderAndNewestDeliveriesKeepingTheFiltersEncoded() {
        StatusPageView.Filters filters = new StatusPageView.Filters(DeliveryOutcome.REJECTED, "a&b/\"c\"", null,
                JobState.FAILED);

        String first = page("n", RULES, filters, List.of(),
                new StatusPagePaging(null, "01OLDERAAAAAAAAAAAAAAAAAAA"));
        String middle = page("n", RULES, filters, List.of(),
                new StatusPagePaging("01NEWERAAAAAAAAAAAAAAAAAAA", "01OLDERAAAAAAAAAAAAAAAAAAA"));
        String last = page("n", RULES, StatusPageView.Filters.NONE, List.of(),
                new StatusPagePaging("01NEWERAAAAAAAAAAAAAAAAAAA", null));

        String older = "<a id=\"older\" href=\"?outcome=REJECTED&amp;project=a%26b%2F%22c%22&amp;state=FAILED"
                + "&amp;before=01OLDERAAAAAAAAAAAAAAAAAAA\">";
        assertThat(first).contains(older).doesNotContain("id=\"newest\"").contains("Recent deliveries")
                .contains("No deliveries on this page match; older ones may.");
        assertThat(middle).contains(older).contains("<a id=\"newest\" href=\"./?outcome=REJECTED&amp;"
                + "project=a%26b%2F%22c%22&amp;state=FAILED\">").contains("Older deliveries");
        assertThat(last).contains("<a id=\"newest\" href=\"./\">").doesNotContain("id=\"older\"")
                .contains("No deliveries match.");
        assertThat(page("n", RULES, filters, List.of(), StatusPagePaging.ONLY))
                .doesNotContain("class=\"paging\"");
    }

    @Test
    void saysWhenADeliveryHasMoreJobsThanItShows() {
        Delivery d = new Delivery("01DELAAAAAAAAAAAAAAAAAAAAA", "default", AT, "127.0.0.1", Map.of(), "hash",
                DeliveryOutcome.ACCEPTED, null, null, new byte[0], new DeliverySummary(9000L, "PASSED", "p", "f", "t"));

        String capped = page("n", RULES, StatusPageView.Filters.NONE,
                List.of(new StatusPageView.DeliveryRow(d, List.of(job("a")), true)), StatusPagePaging.ONLY);
        String whole = page("n", RULES, StatusPageView.Filters.NONE,
                List.of(new StatusPageView.DeliveryRow(d, List.of(job("a")))), StatusPagePaging.ONLY);

        assertThat(capped).contains("only the newest 1 jobs are shown: <code>buildhook jobs --delivery "
                + "01DELAAAAAAAAAAAAAAAAAAAAA</code> lists all");
        assertThat(whole).doesNotContain("only the newest");
    }

    @Test
    void rendersAJobsRunNameCommandAndLogAsText() {
        JobAttempt attempt = new JobAttempt("01JOBAAAAAAAAAAAAAAAAAAAAA", 1, AttemptOutcome.FAILED, 1, AT, AT, "n1",
                null, XSS);

        String html = StatusJobView.page("n", job(XSS), Optional.empty(), List.of(attempt),
                Map.of(1, LogText.plain("out " + XSS + " & more\n")), List.of(), false);

        assertThat(html).doesNotContain(XSS).contains("out &lt;script&gt;alert(1)&lt;/script&gt; &amp; more");
        assertThat(html.split("&lt;script&gt;", -1)).hasSizeGreaterThanOrEqualTo(5);
    }

    /**
     * wording15: an attempt whose end nobody recorded (its node died on another host) was stored with the
     * time it was concluded as its end; it is stored without one now and shown as "unknown", with the
     * job's duration, never as a blank nor as a time.
     */
    @Test
    void anAttemptWhoseEndNobodyRecordedIsShownAsUnknown() {
        Job failed = new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", "deploy", "{}",
                List.of("/bin/false"), Map.of(), null, false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 1,
                null, JobState.FAILED, 1, 3, AT, AT, null, "n1", null, "exited with 3", false, null);
        JobAttempt ended = new JobAttempt(failed.id(), 1, AttemptOutcome.FAILED, 3, AT, null, "n1", null,
                "exited with 3");
        JobAttempt running = new JobAttempt(failed.id(), 2, AttemptOutcome.RUNNING, null, AT, null, "n1", null, null);

        String html = StatusJobView.page("n", failed, Optional.empty(), List.of(ended, running), Map.of(), List.of(),
                false);

        assertThat(html).contains("<th>Duration</th><td><span class=\"unknown\">unknown</span></td>");
        String endedRow = html.substring(html.indexOf("<tr><td>1</td>"), html.indexOf("<tr><td>2</td>"));
        String runningRow = html.substring(html.indexOf("<tr><td>2</td>"));
        assertThat(endedRow).as("the ended attempt's row").contains("<span class=\"unknown\">unknown</span>");
        assertThat(runningRow.substring(0, runningRow.indexOf("</tr>"))).as("the running attempt's row")
                .doesNotContain("unknown");
    }

    @Test
    void escapesEverySpecialCharacter() {
        assertThat(Html.escape("a&b<c>d\"e'f")).isEqualTo("a&amp;b&lt;c&gt;d&quot;e&#39;f");
        assertThat(Html.escape(null)).isEmpty();
    }

    /**
     * cluster27 F5: a reason without a full stop, then its time and detail, each a sentence of its own; the time as the
     * page writes every other (tryout50 F7: a raw instant to the nanosecond, and the detail began in lower case).
     */
    @Test
    void thePageWhileTheStoreDoesNotAnswerEndsTheReasonBeforeItsTime() {
        String html = StatusPageView.storeUnavailable("n0nce", java.util.Optional.of(
                new org.buildhook.runner.store.StoreTrouble(java.time.Instant.parse("2026-12-02T22:44:11.237139443Z"),
                        "no connection: waiting (0 open); see the server log", "the pool is empty")),
                new RefusedBuilds.View(java.util.List.of(), 0));

        assertThat(html).contains(">No connection: waiting (0 open); see the server log. Since <time"
                + " datetime=\"2026-12-02T22:44:11.237139443Z\">2026-12-02 22:44:11 UTC</time>. The pool is empty.</p>");
    }

    /**
     * cluster27 F3: a cluster node's page while its store does not answer says that the other nodes run the queued
     * jobs, and which of its own running jobs it killed itself (self-fencing) and that the others run them again
     * after the dead-node limit; a SQLite node's says neither.
     */
    @Test
    void aClusterNodesPageWhileTheStoreDoesNotAnswerNamesTheJobsItKilledItselfAndWhoRunsThem() {
        java.util.Map<String, java.time.Instant> fenced = java.util.Map.of(
                "01M8WERCDMB5DXQ13TP65C1C3W", java.time.Instant.parse("2026-12-02T22:42:37Z"),
                "<b>J2</b>", java.time.Instant.parse("2026-12-02T22:42:40Z"));
        String html = StatusPageView.storeUnavailable("n0nce", java.util.Optional.empty(),
                new RefusedBuilds.View(java.util.List.of(), 0),
                new StatusPageView.ClusterOutage(fenced, java.time.Duration.ofSeconds(30)));

        assertThat(html).contains("Jobs start only once the store answers. The other nodes of the cluster that reach"
                + " it run the queued jobs meanwhile.</p>")
                .contains("<p class=\"banner\" id=\"fenced-jobs\"><strong>This node killed the commands of 2 running"
                        + " job(s) itself</strong> (self-fencing: it could not write their heartbeats")
                .contains("once this node has not been heard from for the dead-node limit (30s)")
                .contains("Killed: <code>01M8WERCDMB5DXQ13TP65C1C3W</code> at <time datetime=\"2026-12-02T22:42:37Z\">"
                        + "2026-12-02 22:42:37 UTC</time>, <code>&lt;b&gt;J2&lt;/b&gt;</code> at ")
                .doesNotContain("<b>J2");
        assertThat(StatusPageView.storeUnavailable("n0nce", java.util.Optional.empty(),
                new RefusedBuilds.View(java.util.List.of(), 0), new StatusPageView.ClusterOutage(java.util.Map.of(),
                        java.time.Duration.ofSeconds(30)))).contains("run the queued jobs meanwhile")
                .doesNotContain("fenced-jobs");
        assertThat(StatusPageView.storeUnavailable("n0nce")).doesNotContain("other nodes").doesNotContain("fenced-jobs");
        // page29: the live part says the same in the part the open page swaps, and why for its header.
        assertThat(StatusPageView.storeUnavailableLive(java.util.Optional.empty(), new RefusedBuilds.View(
                java.util.List.of(), 0), new StatusPageView.ClusterOutage(fenced, java.time.Duration.ofSeconds(30))))
                .startsWith("<!DOCTYPE html><html><body data-unavailable=\"the store does not answer (see /healthz")
                .contains("<div id=\"store-outage\" data-live>").contains("This node killed the commands of 2 running")
                .doesNotContain("<b>J2").doesNotContain("<script");
    }

    /**
     * tryout21 F7: while the store does not answer, a page of the console's look that says so, what it
     * means, where to look, and that it tries again and loads the status by itself (its script polls
     * and reloads once a poll succeeds).
     */
    @Test
    void thePageWhileTheStoreDoesNotAnswerSaysWhatItMeansWhereToLookAndRetriesByItself() {
        String html = StatusPageView.storeUnavailable("n0nce");

        assertThat(html).contains("<title>buildhook: the store does not answer</title>")
                .contains("<body data-poll=\"" + StatusPageView.POLL_MILLIS + "\" data-reload-when-live=\"1\">")
                .contains("<h2>The store does not answer</h2>")
                .contains("every webhook is answered <code>503</code>").contains("no delivery is lost")
                .contains("<a href=\"healthz\"><code>/healthz</code></a> names the cause")
                .contains("the server log has the store's error")
                .contains("tries again every 4 seconds by itself").contains("no need to reload it")
                .contains("<script nonce=\"n0nce\">").contains("data-reload-when-live')) { location.reload();")
                .doesNotContain("internal error");
        assertThat(StatusPageView.STORE_UNAVAILABLE_LIVE).startsWith("the store does not answer")
                .contains("/healthz").contains("503").contains("for about 7 s only")
                .doesNotContain("sends them again");
    }

    /** tryout21 F8.3: a running job whose cancel was requested is not offered Cancel again; one without is. */
    @Test
    void aRunningJobWhoseCancelWasRequestedIsNotOfferedCancelAgain() {
        StringBuilder offered = new StringBuilder();
        StringBuilder notOffered = new StringBuilder();

        StatusPageView.actions(offered, running(false));
        StatusPageView.actions(notOffered, running(true));

        assertThat(offered.toString()).contains("/cancel\" data-confirm=\"Cancel job rule"
                + " (01JOBAAAAAAAAAAAAAAAAAAAAA)? Its running command is stopped. This cannot be undone.\">Cancel</button>");
        assertThat(notOffered.toString()).doesNotContain("Cancel");
    }

    /**
     * tryout34 F4: Re-run and Replay started commands on one click while Cancel asked; a re-run of an old deploy ran the
     * older build over the newer. Each asks first, naming the rule, the build and project (markup as text) and what
     * runs; a superseded job's Re-run says that a newer build's job superseded it. Approve names the build too.
     */
    @Test
    void reRunAndReplayAskFirstNamingTheBuildAndWhatRuns() {
        DeliverySummary lmp = new DeliverySummary(412L, "PASSED", "andy-corp/lmp<b>", "andy-corp", "build-lmp");
        JobWorkflow superseded = new JobWorkflow(412L, "andy-corp/lmp", true, null, Map.of(), Map.of(), null, null, 0);
        JobWorkflow gated = new JobWorkflow(412L, null, false, Duration.ofHours(1), Map.of(), Map.of(), null, null, 0);
        StringBuilder old = new StringBuilder();
        StringBuilder approved = new StringBuilder();
        StringBuilder awaiting = new StringBuilder();
        StringBuilder planned = new StringBuilder();

        StatusPageView.actions(old, ended("deploy", JobState.SUPERSEDED, superseded, "01NEWERAAAAAAAAAAAAAAAAAAA"), lmp);
        StatusPageView.actions(approved, ended("deploy", JobState.SUCCEEDED, gated, null), lmp);
        StatusPageView.actions(awaiting, ended("deploy", JobState.AWAITING_APPROVAL, gated, null), lmp);
        // On a page without the delivery (gone): the build the job was planned for, without a project.
        StatusPageView.actions(planned, ended("soak", JobState.FAILED, superseded, null));

        assertThat(old.toString()).contains("/rerun-warnings\" data-confirm=\"Re-run job deploy"
                + " (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412 of andy-corp/lmp&lt;b&gt;? Its command runs again now as a"
                + " new job. A newer build&#39;s job (01NEWERAAAAAAAAAAAAAAAAAAA) superseded this one: a re-run is not"
                + " superseded, so this runs the older build again.\">Re-run</button>").doesNotContain("<b>");
        assertThat(approved.toString()).contains("/rerun-warnings\" data-confirm=\"Re-run job deploy"
                + " (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412 of andy-corp/lmp&lt;b&gt;? It runs again as a new job once"
                + " approved (it awaits an approval first).\">Re-run</button>");
        assertThat(awaiting.toString()).contains("/approve-warnings\" data-confirm=\"Approve job deploy"
                + " (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412 of andy-corp/lmp&lt;b&gt;? It starts as soon as its rule"
                + " allows; this cannot be undone.\">");
        assertThat(planned.toString()).contains("data-confirm=\"Re-run job soak (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412?"
                + " Its command runs again now as a new job.\"");

        Delivery d = new Delivery("01DELAAAAAAAAAAAAAAAAAAAAA", "default", AT, "127.0.0.1", Map.of(), "hash",
                DeliveryOutcome.ACCEPTED, null, null, new byte[0], lmp);
        String html = page("n", RULES, StatusPageView.Filters.NONE, List.of(new StatusPageView.DeliveryRow(d,
                List.of(ended("deploy", JobState.SUCCEEDED, superseded, null)))), StatusPagePaging.ONLY);
        assertThat(html).contains("data-post=\"api/deliveries/01DELAAAAAAAAAAAAAAAAAAAAA/replay\""
                + " data-preview=\"api/deliveries/01DELAAAAAAAAAAAAAAAAAAAAA/replay-warnings\" data-confirm=\"Replay"
                + " delivery 01DELAAAAAAAAAAAAAAAAAAAAA (build 412 of andy-corp/lmp&lt;b&gt;)? Every rule that matches this"
                + " delivery plans its jobs again, under the rules in force now.\">Replay</button>")
                // The delivery's jobs' buttons name its build and project.
                .contains("data-confirm=\"Re-run job deploy (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412 of andy-corp/lmp&lt;b&gt;?");
        // The job's page's live parts, which replace its buttons, name them as its first answer does.
        Job done = ended("deploy", JobState.SUCCEEDED, superseded, null);
        assertThat(StatusJobView.live(done, lmp, List.of(), Map.of(), StatusJobView.Chain.NONE))
                .contains("data-confirm=\"Re-run job deploy (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412 of andy-corp/lmp&lt;b&gt;?");
        assertThat(StatusJobView.finalPart(done, lmp, List.of(), StatusJobView.Chain.NONE))
                .contains("data-confirm=\"Re-run job deploy (01JOBAAAAAAAAAAAAAAAAAAAAA), build 412 of andy-corp/lmp&lt;b&gt;?");
        assertThat(StatusPageView.build(null, null)).isEmpty();
        assertThat(StatusPageView.build(null, "f/p")).isEqualTo("project f/p");
    }

    private static Job ended(String rule, JobState state, JobWorkflow workflow, String supersededBy) {
        return new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", rule, "{}", List.of("/bin/true"),
                Map.of(), Path.of("/tmp"), false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 1, null, state,
                state.isFinal() ? 1 : 0, null, AT, AT, AT, "node", null, null, false, null, workflow, supersededBy, null);
    }

    private static Job running(boolean cancelRequested) {
        return new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", "rule", "{}", List.of("/bin/true"),
                Map.of(), Path.of("/tmp"), false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 1, null,
                JobState.RUNNING, 1, null, AT, AT, null, "node", null, null, cancelRequested, null);
    }
}
