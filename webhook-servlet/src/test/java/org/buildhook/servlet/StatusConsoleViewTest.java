package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.runner.store.Activity;
import org.buildhook.runner.store.AttemptOutcome;
import org.buildhook.runner.store.Delivery;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliverySummary;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.JobTiming;
import org.junit.jupiter.api.Test;

/** The console parts of the status page: header, banner, tones, links, rule health and its charts. */
class StatusConsoleViewTest {

    private static final Instant AT = Instant.parse("2026-11-29T04:00:00Z");
    private static final StatusPageView.RulesInfo RULES = new StatusPageView.RulesInfo("rules.yaml", AT,
            Map.of("deploy", "name: deploy"), Optional.empty());

    private static Delivery delivery(String id, DeliveryOutcome outcome, String duplicateOf) {
        return new Delivery(id, "default", AT, "127.0.0.1", Map.of(), "hash", outcome, null, duplicateOf, null,
                new DeliverySummary(67L, "PASSED", "andy-corp/lmp", "andy-corp", "containers-devel"));
    }

    private static Job job(String id, JobState state, String run, Map<String, String> env) {
        return new Job(id, "01DELAAAAAAAAAAAAAAAAAAAAA", "deploy", "{}", List.of("/bin/true"), env, null, false,
                Duration.ofSeconds(30), 2, Duration.ofSeconds(1), 0, run, state, 1, null, AT, AT,
                state.isFinal() ? AT.plusMillis(2500) : null, "n1", null, null, false, null);
    }

    private static String page(StatusSummary summary, StatusPageView.RulesInfo rules, List<RuleHealth> health,
            List<StatusPageView.DeliveryRow> rows) {
        return StatusPageView.page("n", new StatusPageView.Live(summary, rules, health, rows, StatusPagePaging.ONLY,
                StatusPageView.Filters.NONE));
    }

    private static StatusSummary quiet() {
        return new StatusSummary(new Activity(AT, Map.of(), Map.of()), 0, 0, 0, Optional.empty(), 0);
    }

    @Test
    void theHeaderShowsTheDaysCountsTheQueueAndTheLastRefusedSignatureWithoutItsValue() {
        StatusSummary summary = new StatusSummary(new Activity(AT,
                Map.of(DeliveryOutcome.ACCEPTED, 12L, DeliveryOutcome.DUPLICATE, 3L, DeliveryOutcome.REJECTED, 1L),
                Map.of(JobState.SUCCEEDED, 9L, JobState.FAILED, 2L, JobState.TIMED_OUT, 1L, JobState.QUEUED, 4L)),
                4, 1, 5, Optional.of(new SignatureRefusals.Last(AT, "default", "10.0.0.9",
                        "no configured secret matches X-JobServ-Sig")), 0);

        String html = summary.html();

        assertThat(html).contains("id=\"tile-deliveries\" data-value=\"16\"").contains("12 accepted")
                .contains("3 duplicate").contains("1 rejected")
                .contains("id=\"tile-jobs\" data-value=\"16\"").contains("2 failed").contains("1 timed out")
                .contains("id=\"tile-failures\" data-value=\"3\"")
                .contains("id=\"tile-queued\" data-value=\"4\"").contains("id=\"tile-running\" data-value=\"1\"")
                .contains("id=\"tile-refused\" data-value=\"5\"").contains("no configured secret matches")
                .contains("10.0.0.9");
        assertThat(html).contains("class=\"tile tone-bad\" id=\"tile-failures\"");
    }

    /**
     * A red "Failed jobs" tile said how many, not which: the operator had to know the Job state filter
     * (tryout16 F3). Its words now link to the list filtered by each of the two states it counts.
     */
    @Test
    void theFailedJobsTileLinksToTheDeliveriesWithFailedAndWithTimedOutJobs() {
        StatusSummary summary = new StatusSummary(new Activity(AT, Map.of(),
                Map.of(JobState.FAILED, 2L, JobState.TIMED_OUT, 1L)), 0, 0, 0, Optional.empty(), 0);

        String tile = summary.html().replaceFirst("(?s).*(<div class=\"tile [^\"]*\" id=\"tile-failures\".*?</div></div>).*", "$1");

        assertThat(tile).contains("<a href=\"?state=failed\">failed</a> or <a href=\"?state=timed_out\">timed out</a>,"
                + " after their retries");
    }

    /**
     * On a busy day the jobs tile's detail, cut to three lines, hid "1 awaiting approval" behind six other
     * counts, with an empty hover text, and no other tile counted it (tryout21 F1). Jobs that wait for
     * someone now come first, the hover text has every count, and the Queue tile links to them.
     */
    @Test
    void jobsAwaitingApprovalAreNotTheCountABusyDayCutsFromTheHeader() {
        StatusSummary summary = new StatusSummary(new Activity(AT, Map.of(DeliveryOutcome.ACCEPTED, 40L),
                Map.of(JobState.SUCCEEDED, 23L, JobState.FAILED, 5L, JobState.TIMED_OUT, 3L, JobState.CANCELLED, 1L,
                        JobState.SUPERSEDED, 1L, JobState.AWAITING_APPROVAL, 1L)), 0, 0, 0, Optional.empty(), 2);

        String html = summary.html();
        String jobs = html.replaceFirst("(?s).*(<div class=\"tile [^\"]*\" id=\"tile-jobs\".*?</div></div>).*", "$1");
        String queue = html.replaceFirst("(?s).*(<div class=\"tile [^\"]*\" id=\"tile-queued\".*?</div></div>).*", "$1");

        assertThat(jobs).containsPattern("<div class=\"detail\" title=\"1 awaiting approval, 23 succeeded, 5 failed, 3 timed"
                + " out, 1 cancelled, 1 superseded\"><span class=\"count tone-waiting\">1 awaiting approval</span> <span");
        assertThat(queue).contains("class=\"tile tone-waiting\"")
                .contains("jobs waiting to run; <a href=\"?state=awaiting_approval\">2 awaiting approval</a>");
        assertThat(html).contains("title=\"40 accepted, 0 duplicate");
    }

    /**
     * retry21, tryout22: the Queue tile counted a job in its retry's backoff among the "jobs waiting to run", and
     * read "1 jobs waiting to run". It says how many of the queued jobs wait for a retry, in the right number.
     */
    @Test
    void theQueueTileSaysHowManyOfItsJobsWaitForARetryAndCountsInTheRightNumber() {
        String one = new StatusSummary(new Activity(AT, Map.of(), Map.of()), 1, 1, 0, Optional.empty(), 0).html();
        String some = new StatusSummary(new Activity(AT, Map.of(), Map.of()), 3, 2, 0, Optional.empty(), 0, 1).html();

        assertThat(one).contains("id=\"tile-queued\" data-value=\"1\"").contains(">job waiting to run</div>")
                .contains(">job running now</div>");
        assertThat(some).contains("id=\"tile-queued\" data-value=\"3\"")
                .contains(">jobs waiting: 2 to run, 1 in a retry's backoff</div>").contains(">jobs running now</div>");
    }

    /**
     * In the recent deliveries a FAILED job said neither why nor with what: its chip now carries the
     * job's message ("exited with 1", "executable not found: …") as its tooltip, as the job's page
     * shows it (tryout16 F3).
     */
    @Test
    void aJobsStateChipInTheDeliveriesSaysOnHoverWhatItsLastAttemptCameTo() {
        Job failed = new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", "deploy", "{}",
                List.of("/bin/true"), Map.of(), null, false, Duration.ofSeconds(30), 0, Duration.ofSeconds(1), 0, null,
                JobState.FAILED, 1, 1, AT, AT, AT.plusSeconds(2), "n1", null, "exited with 1 <&>", false, null);

        String html = page(quiet(), RULES, List.of(), List.of(new StatusPageView.DeliveryRow(
                delivery("01DELAAAAAAAAAAAAAAAAAAAAA", DeliveryOutcome.ACCEPTED, null), List.of(failed))));

        assertThat(html).contains("<span class=\"chip state tone-bad\" title=\"exited with 1 &lt;&amp;&gt;\">FAILED</span>");
    }

    @Test
    void aRefusedRulesFileIsABannerAtTheTopOfThePage() {
        StatusPageView.RulesInfo refused = new StatusPageView.RulesInfo("/etc/buildhook/rules.yaml", AT,
                Map.of("deploy", "name: deploy"), Optional.of("rules.yaml:3:5: unknown key 'colour'"));

        String html = page(quiet(), refused, List.of(), List.of());

        assertThat(html).contains("id=\"rules-banner\"").contains("unknown key &#39;colour&#39;");
        assertThat(html.indexOf("id=\"rules-banner\"")).isLessThan(html.indexOf("id=\"summary\""));
        assertThat(page(quiet(), RULES, List.of(), List.of())).doesNotContain("rules-banner");
    }

    @Test
    void aDuplicateIsPaintedNeutralAndAFailedJobBad() {
        String html = page(quiet(), RULES, List.of(), List.of(
                new StatusPageView.DeliveryRow(delivery("01DUPAAAAAAAAAAAAAAAAAAAAA", DeliveryOutcome.DUPLICATE,
                        "01FIRSTAAAAAAAAAAAAAAAAAAA"), List.of()),
                new StatusPageView.DeliveryRow(delivery("01DELAAAAAAAAAAAAAAAAAAAAA", DeliveryOutcome.ACCEPTED, null),
                        List.of(job("01JOBAAAAAAAAAAAAAAAAAAAAA", JobState.FAILED, null, Map.of())))));

        assertThat(html).contains("<tr class=\"delivery tone-neutral\" data-id=\"01DUPAAAAAAAAAAAAAAAAAAAAA\"")
                .contains("<span class=\"chip tone-neutral\">DUPLICATE</span> <small>of <code>01FIRST")
                .contains("<span class=\"chip state tone-bad\">FAILED</span>");
    }

    @Test
    void everyStateHasATone() {
        for (JobState s : JobState.values()) {
            assertThat(StatusTone.of(s)).as(s.name()).isNotNull();
        }
        assertThat(StatusTone.of(DeliveryOutcome.DUPLICATE)).isEqualTo(StatusTone.NEUTRAL);
        assertThat(StatusTone.of(JobState.CANCELLED)).isEqualTo(StatusTone.NEUTRAL);
        assertThat(StatusTone.of(JobState.TIMED_OUT)).isEqualTo(StatusTone.BAD);
    }

    @Test
    void aJobShowsItsRunNameDurationAndOnlyHttpLinks() {
        Job each = job("01JOBAAAAAAAAAAAAAAAAAAAAA", JobState.SUCCEEDED, "build-aarch64", Map.of(
                "BUILDHOOK_WEB_URL", "https://ci.foundries.io/projects/andy-corp/lmp/builds/67/",
                "BUILDHOOK_RUN_LOG_URL", "https://api.foundries.io/runs/67/build-aarch64/console.log?a=1&b=2"));
        Job evil = job("01JOBBAAAAAAAAAAAAAAAAAAAA", JobState.SUCCEEDED, "x", Map.of(
                "BUILDHOOK_WEB_URL", "javascript:alert(1)", "BUILDHOOK_RUN_LOG_URL", "data:text/html,<b>x</b>"));

        String html = page(quiet(), RULES, List.of(), List.of(
                new StatusPageView.DeliveryRow(delivery("01DELAAAAAAAAAAAAAAAAAAAAA", DeliveryOutcome.ACCEPTED, null),
                        List.of(each)),
                new StatusPageView.DeliveryRow(delivery("01DELBAAAAAAAAAAAAAAAAAAAA", DeliveryOutcome.ACCEPTED, null),
                        List.of(evil))));

        assertThat(html).contains("<span class=\"run\" title=\"run\">build-aarch64</span>")
                .contains("<span class=\"dur\">2.5s</span>")
                .contains("href=\"https://ci.foundries.io/projects/andy-corp/lmp/builds/67/\"")
                .contains("href=\"https://api.foundries.io/runs/67/build-aarch64/console.log?a=1&amp;b=2\"")
                .doesNotContain("javascript:").doesNotContain("data:text");
        assertThat(SafeLinks.http("HTTPS://example.org/x")).isPresent();
        assertThat(SafeLinks.http("//example.org/x")).isEmpty();
        assertThat(SafeLinks.http("file:///etc/passwd")).isEmpty();
        assertThat(SafeLinks.http("http://")).isEmpty();
    }

    @Test
    void aRulesSuccessRateCountsOnlyJobsThatRanToAVerdictNotSupersededOrCancelledOnes() {
        List<JobTiming> recent = new ArrayList<>();
        JobState[] states = {JobState.SUCCEEDED, JobState.SUPERSEDED, JobState.SUPERSEDED, JobState.CANCELLED,
            JobState.FAILED};
        for (int i = 0; i < states.length; i++) {
            recent.add(new JobTiming("01K" + i, states[i], AT, AT.plusSeconds(1), Duration.ofSeconds(30)));
        }
        RuleHealth health = new RuleHealth("deploy", recent);

        assertThat(health.decided()).isEqualTo(2);
        assertThat(health.successRate()).contains(0.5);
        assertThat(page(quiet(), RULES, List.of(health), List.of())).contains("50% <small>of 2</small>");
    }

    @Test
    void aRulesHealthIsItsSuccessRateAndDurationPercentilesAsInlineSvg() {
        List<JobTiming> recent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            JobState state = i == 0 ? JobState.RUNNING : i % 5 == 0 ? JobState.FAILED : JobState.SUCCEEDED;
            recent.add(new JobTiming("01J" + i, state, AT, state.isFinal() ? AT.plusSeconds(i) : null,
                    Duration.ofSeconds(30)));
        }
        RuleHealth health = new RuleHealth("deploy", recent);

        String html = page(quiet(), RULES, List.of(health, new RuleHealth("never", List.of())), List.of());

        assertThat(health.ended()).isEqualTo(19);
        assertThat(health.successRate()).hasValueSatisfying(r -> assertThat(r).isEqualTo(16 / 19.0));
        assertThat(health.percentile(50)).contains(Duration.ofSeconds(10));
        assertThat(health.percentile(95)).contains(Duration.ofSeconds(19));
        assertThat(html).contains("<tr class=\"rule\" data-rule=\"deploy\">").contains("84% <small>of 19</small>")
                .contains("<svg class=\"chart gauge\"").contains("<svg class=\"chart history\"")
                .contains("10s / 19s of 30s").contains("<span class=\"chip state tone-active\">RUNNING</span>")
                .contains("no job yet");
        assertThat(html.split("<rect class=\"tone-", -1)).hasSize(21);
    }

    @Test
    void theLivePartHoldsOnlyTheChangingPartsAndAsksToBePolledAgain() {
        String live = StatusPageView.live(new StatusPageView.Live(quiet(), RULES, List.of(), List.of(),
                StatusPagePaging.ONLY, StatusPageView.Filters.NONE));

        assertThat(live).contains("<body data-poll=\"" + StatusPageView.POLL_MILLIS + "\">")
                .contains("id=\"live-top\" data-live").contains("id=\"live-deliveries\" class=\"scroll-x\" data-live")
                .doesNotContain("<script").doesNotContain("Rules in force");
        Job running = job("01JOBAAAAAAAAAAAAAAAAAAAAA", JobState.RUNNING, null, Map.of());
        Job done = job("01JOBAAAAAAAAAAAAAAAAAAAAA", JobState.SUCCEEDED, null, Map.of());
        assertThat(StatusJobView.live(running, List.of(), Map.of(1, LogText.plain("started\n")))).contains("data-poll=")
                .contains("<pre class=\"log\" id=\"log-1\">started\n</pre>");
        // page30: a finished job's page still asks, slowly and for its state only, to notice a store outage.
        assertThat(StatusJobView.live(done, List.of(), Map.of())).contains("<body data-poll=\""
                + StatusJobView.FINAL_POLL_MILLIS + "\" data-live-part=\"final\">");
        assertThat(StatusJobView.finalPart(done, List.of(), StatusJobView.Chain.NONE)).contains("<body data-poll=\""
                + StatusJobView.FINAL_POLL_MILLIS + "\" data-live-part=\"final\">").contains("id=\"job-live\" data-live")
                .contains("id=\"job-chain\" data-live").doesNotContain("job-log-live").doesNotContain("id=\"attempts\"");
    }

    @Test
    void aJobPageShowsItsBuildProjectTriggerTimeoutRetriesEnvAndWorkdir() {
        Job j = new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", "deploy", "{}",
                List.of("/opt/deploy.sh", "67"), Map.of("TARGET", "staging", "API_TOKEN", "***"), Path.of("/srv/w"),
                false, Duration.ofMinutes(10), 2, Duration.ofSeconds(5), 1, "build-aarch64", JobState.RUNNING, 1, null,
                AT, AT, null, "n1", null, null, false, null);

        String html = StatusJobView.page("n", j, Optional.of(delivery("01DELAAAAAAAAAAAAAAAAAAAAA",
                DeliveryOutcome.ACCEPTED, null)), List.of(), Map.of(), List.of(), false);

        assertThat(html).contains("<th>Build</th><td>67").contains("<th>Project</th><td>andy-corp/lmp")
                .contains("<th>Trigger</th><td>containers-devel").contains("<th>Timeout</th><td>10m")
                .contains("<th>Retries</th><td>2 <small>first after 5s").contains("<code>/srv/w</code>")
                .contains("API_TOKEN=***").contains("TARGET=staging").contains("build-aarch64")
                .contains("data-poll=\"" + StatusJobView.POLL_MILLIS + "\"");
    }

    /** tryout22: a job that ran three attempts over 40 s said {@code Duration 9s}, its last attempt's. */
    @Test
    void aJobOfSeveralAttemptsSaysHowLongSinceItsFirstStarted() {
        Instant first = AT.minusSeconds(31);
        Job j = new Job("01JOBAAAAAAAAAAAAAAAAAAAAA", "01DELAAAAAAAAAAAAAAAAAAAAA", "killer", "{}",
                List.of("/opt/k.sh"), Map.of(), null, false, Duration.ofMinutes(10), 0, Duration.ZERO, 1, null,
                JobState.FAILED, 3, 1, first, AT, AT.plusSeconds(9), "n1", null, null, false, null);
        List<JobAttempt> attempts = List.of(
                new JobAttempt(j.id(), 1, AttemptOutcome.INTERRUPTED, null, first, AT.minusSeconds(20), "n0", null, null),
                new JobAttempt(j.id(), 2, AttemptOutcome.INTERRUPTED, null, AT.minusSeconds(15), AT.minusSeconds(5),
                        "n0", null, null),
                new JobAttempt(j.id(), 3, AttemptOutcome.FAILED, 1, AT, AT.plusSeconds(9), "n1", null, null));

        assertThat(StatusJobView.live(j, attempts, Map.of()))
                .contains("<th>Duration</th><td>9s <small>(attempt 3; 40s since its first attempt started)</small>");
        assertThat(StatusJobView.live(j, attempts.subList(2, 3), Map.of()))
                .contains("<th>Duration</th><td>9s</td>");
    }

    @Test
    void aSignInLinkKeepsItsOtherParametersAndDropsTheToken() {
        assertThat(StatusPageServlet.withoutToken("token=abc&job=01JOB")).isEqualTo("job=01JOB");
        assertThat(StatusPageServlet.withoutToken("project=a%2Fb&token=x&state=FAILED"))
                .isEqualTo("project=a%2Fb&state=FAILED");
        assertThat(StatusPageServlet.withoutToken("token=x")).isEmpty();
        assertThat(StatusPageServlet.withoutToken(null)).isEmpty();
        assertThat(StatusPageServlet.withoutToken("a=%zz&b=1&part=live")).isEqualTo("b=1");
    }

    /**
     * wording15: the status page wrote "1m 5s" and "2h 3m" where the server log wrote "1m5.3s" and
     * "2h3m", and the command line "600s": one formatter now, the rules file's syntax for whole values.
     */
    @Test
    void writesDurationsAsPeopleDoAndAsTheServerLogDoes() {
        assertThat(StatusFormat.duration(Duration.ofMillis(350))).isEqualTo("350ms");
        assertThat(StatusFormat.duration(Duration.ofSeconds(2))).isEqualTo("2s");
        assertThat(StatusFormat.duration(Duration.ofMillis(2_550))).isEqualTo("2.5s");
        assertThat(StatusFormat.duration(Duration.ofMillis(65_300))).isEqualTo("1m5s");
        assertThat(StatusFormat.duration(Duration.ofMinutes(10))).isEqualTo("10m");
        assertThat(StatusFormat.duration(Duration.ofMinutes(123))).isEqualTo("2h3m");
        assertThat(StatusFormat.duration(Duration.ofSeconds(-3))).isEqualTo("0ms");
        for (Duration d : java.util.List.of(Duration.ofMillis(1), Duration.ofMillis(9_999), Duration.ofSeconds(10),
                Duration.ofMillis(65_300), Duration.ofSeconds(3_600), Duration.ofSeconds(7_530), Duration.ofDays(1))) {
            assertThat(StatusFormat.duration(d)).as("the page as the log, for %s", d)
                    .isEqualTo(org.buildhook.runner.rules.Durations.describe(d));
        }
    }
}
