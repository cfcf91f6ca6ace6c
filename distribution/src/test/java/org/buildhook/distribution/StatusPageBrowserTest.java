package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.buildhook.core.Signer;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;

/**
 * The status page in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}): sign in with the token, see a delivery, open its job's log, re-run
 * it. Skipped without {@code /usr/bin/chromium}, except on CI ({@code CI=true}), where that fails.
 * Leaves screenshots in {@code target/}: {@code status-page.png} and {@code status-page-job.png}, and
 * of the console with deliveries and jobs in every state: {@code status-console.png},
 * {@code status-console-refused-rules.png}, {@code status-console-job-running.png} and
 * {@code status-console-job-ended.png}, and of the shared resources panel: {@code status-console-resources.png}
 * and {@code status-console-resources-live.png}, and of the recent deliveries at several window widths:
 * {@code status-console-1300.png} (and 1400, 1024, 800).
 */
@ExtendWith(AdminServerExtension.class)
class StatusPageBrowserTest {

    @TempDir
    Path profile;
    ChromeDriver browser;

    @BeforeEach
    void needsChromium() {
        Chromium.required();
    }

    @AfterEach
    void stop() {
        if (browser != null) {
            browser.quit();
        }
    }

    private ChromeDriver startBrowser() {
        return Chromium.start(profile);
    }

    private void screenshot(String name) throws Exception {
        Chromium.screenshot(browser, name);
    }

    /**
     * tryout38 F7: the live status said "live · updated 12:06:39 AM", the browser's local 12-hour clock, beside
     * "2026-12-05 00:06:01 UTC" everywhere else on the page. It says the time as the page does, in UTC.
     */
    @Test
    void theLiveStatusSaysWhenItUpdatedInUtcAsThePageSaysItsTimes(AdminServer server) throws Exception {
        browser = startBrowser();
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.findElement(By.id("live-status"))
                .getText().matches("(live \u00b7 updated|final \u00b7 checked) .+"));
        assertThat(browser.findElement(By.id("live-status")).getText())
                .matches("(live \u00b7 updated|final \u00b7 checked) \\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} UTC");
    }

    /**
     * tryout21 F8.3: Cancel on a running job's page says what it did in words, not the API's
     * {@code 200 {"cancelled":true}}, and the page offers no Cancel once it was requested.
     */
    @Test
    void cancelOnAJobsPageSaysItInWordsAndIsNoLongerOffered(AdminServer server) throws Exception {
        String deliveryId = server.deliver("build-68-failed.json");
        String jobId = server.awaitJob(deliveryId, "RUNNING").path("id").asText();
        browser = startBrowser();
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        browser.get(server.uri() + "?job=" + jobId);

        // tryout33 F10: it asks first; dismissed, nothing is sent and the job runs on.
        onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Cancel']")).click());
        Alert ask = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.switchTo().alert(), a -> a != null);
        assertThat(ask.getText()).startsWith("Cancel job ").endsWith("? Its running command is stopped. This cannot"
                + " be undone.").contains(jobId);
        ask.dismiss();
        assertThat(browser.findElement(By.id("result")).getText()).isEmpty();
        assertThat(server.getJson("jobs/" + jobId).path("job").path("cancelRequested").asBoolean(true)).isFalse();

        onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Cancel']")).click());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.switchTo().alert(), a -> a != null)
                .accept();

        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.id("result"))
                .getText().startsWith("Cancel requested; a running job stops within runner.cancel-check"));
        assertThat(browser.findElement(By.id("result")).getText()).doesNotContain("{").doesNotContain("200");
        await().atMost(Duration.ofSeconds(60)).until(() -> browser.findElements(By.xpath("//button[text()='Cancel']"))
                .isEmpty());
    }

    /**
     * delcancel50: a delivery's row has a Cancel of every job of it not ended ({@code POST
     * api/deliveries/{id}/cancel}, what {@code buildhook cancel --delivery} asks). It asks first, naming how many jobs
     * and the build; dismissed, nothing is sent; accepted, the page says the answer's counts in words, the running
     * job stops, the one awaiting an approval never runs, the one that had ended is left, and another delivery's
     * running job is not touched.
     */
    @Test
    void cancelOfADeliveryAsksNamingHowManyJobsAndSaysTheCounts(@TempDir Path dir) throws Exception {
        String rules = "rules:\n"
                + "  - name: other\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("wait.sh") + "']\n      timeout: 5m\n"
                + "  - name: deploy\n    when: {status: FAILED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("wait.sh") + "']\n      timeout: 5m\n"
                + "  - name: held\n    when: {status: FAILED}\n    approval: {}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("echo.sh") + "', held]\n      timeout: 1m\n"
                + "  - name: quick\n    when: {status: FAILED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("echo.sh") + "', quick]\n      timeout: 1m\n";
        try (AdminServer server = AdminServer.withRules(dir, rules)) {
            String passed = server.deliver("build-67-passed.json");
            String other = awaitRule(server, passed, "other", "RUNNING");
            String failed = server.deliver("build-68-failed.json");
            String deploy = awaitRule(server, failed, "deploy", "RUNNING");
            awaitRule(server, failed, "held", "AWAITING_APPROVAL");
            awaitRule(server, failed, "quick", "SUCCEEDED");
            browser = startBrowser();
            browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
            By cancel = By.cssSelector("tr.delivery[data-id='" + failed + "'] button.cancel-delivery");

            onTheLivePage(() -> browser.findElement(cancel).click());
            Alert ask = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> browser.switchTo().alert(), a -> a != null);
            assertThat(ask.getText()).isEqualTo("Cancel the jobs of delivery " + failed + " (build 68 of"
                    + " andy-corp/lmp) that have not ended (2 when this page was drawn)? Running commands are stopped; the others do not start."
                    + " Their on-cancel follow-ups run. This cannot be undone.");
            ask.dismiss();
            assertThat(browser.findElement(By.id("result")).getText()).isEmpty();
            assertThat(server.getJson("jobs/" + deploy).path("job").path("cancelRequested").asBoolean(true)).isFalse();
            assertThat(server.getJson("actions?delivery=" + failed).path("items")).isEmpty();

            onTheLivePage(() -> browser.findElement(cancel).click());
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.switchTo().alert(),
                    a -> a != null).accept();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.id("result"))
                    .getText().startsWith("Cancelled "));
            assertThat(browser.findElement(By.id("result")).getText()).isEqualTo("Cancelled 2 jobs of delivery "
                    + failed + "; 1 had already ended. 1 running: its node stops it within runner.cancel-check (2 s"
                    + " unless configured). The others do not start.");

            awaitRule(server, failed, "deploy", "CANCELLED");
            JsonNode jobs = server.getJson("jobs?delivery=" + failed).path("items");
            assertThat(jobs.findValuesAsText("state")).containsExactlyInAnyOrder("CANCELLED", "CANCELLED",
                    "SUCCEEDED");
            assertThat(server.getJson("jobs/" + other).path("job").path("state").asText()).isEqualTo("RUNNING");
            assertThat(server.getJson("jobs/" + other).path("job").path("cancelRequested").asBoolean()).isFalse();
            // Nothing left to cancel: the button goes; the other delivery keeps its own.
            await().atMost(Duration.ofSeconds(60)).until(() -> browser.findElements(cancel).isEmpty());
            assertThat(browser.findElements(By.cssSelector("tr.delivery[data-id='" + passed
                    + "'] button.cancel-delivery"))).hasSize(1);
            screenshot("status-page-cancel-delivery.png");
        }
    }

    @Test
    void signsInShowsADeliveryOpensItsJobLogAndReRunsIt(AdminServer server) throws Exception {
        String deliveryId = server.deliver("build-67-passed.json");
        String jobId = server.awaitJob(deliveryId, "SUCCEEDED").path("id").asText();
        server.deliver("build-68-failed.json");
        browser = startBrowser();

        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        assertThat(browser.getCurrentUrl()).isEqualTo(server.uri().toString());
        By row = By.cssSelector("tr.delivery[data-id='" + deliveryId + "']");
        onTheLivePage(() -> {
            assertThat(browser.findElement(row).getText()).contains("andy-corp/lmp").contains("containers-devel")
                    .contains("67").contains("ACCEPTED").contains("SUCCEEDED");
            assertThat(browser.findElement(By.id("rules")).getText()).contains("echo").contains("wait");
        });
        screenshot("status-page.png");

        onTheLivePage(() -> browser.findElement(row).findElement(By.cssSelector("a.job")).click());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.cssSelector("pre.log")).getText().contains("line two 67"));
        assertThat(browser.getCurrentUrl()).endsWith("?job=" + jobId);
        onTheLivePage(() -> assertThat(browser.findElement(By.id("attempts")).getText()).contains("SUCCEEDED"));
        screenshot("status-page-job.png");

        // tryout34 F4: Re-run asks first, naming the job, its build and what runs; dismissed, nothing is sent.
        onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Re-run']")).click());
        Alert ask = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.switchTo().alert(), a -> a != null);
        assertThat(ask.getText()).startsWith("Re-run job ").contains("(" + jobId + "), build 67 of andy-corp/lmp? ")
                .endsWith("Its command runs again now as a new job.");
        ask.dismiss();
        assertThat(browser.findElement(By.id("result")).getText()).isEmpty();
        assertThat(server.getJson("jobs?delivery=" + deliveryId).path("items").size()).isEqualTo(1);

        onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Re-run']")).click());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.switchTo().alert(), a -> a != null)
                .accept();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.id("result")).getText().startsWith("Re-run as job "));
        assertThat(browser.findElement(By.id("result")).getText()).doesNotContain("{").doesNotContain("202");

        browser.get(server.uri().toString());
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
            browser.navigate().refresh();
            List<WebElement> jobs = browser.findElement(By.cssSelector("tr.delivery[data-id='" + deliveryId
                    + "']")).findElements(By.cssSelector("ul.jobs li"));
            return jobs.size() == 2 && jobs.stream().allMatch(j -> j.getText().contains("SUCCEEDED"));
        });
        assertThat(server.getJson("jobs?delivery=" + deliveryId).path("items").findValuesAsText("rerunOf"))
                .contains(jobId);
        screenshot("status-page.png");

        // tryout34 F4: Replay asks first too, naming the delivery and its build; dismissed, no job is planned.
        onTheLivePage(() -> browser.findElement(row).findElement(By.cssSelector("button[data-post$='/replay']")).click());
        Alert replay = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.switchTo().alert(), a -> a != null);
        assertThat(replay.getText()).isEqualTo("Replay delivery " + deliveryId + " (build 67 of andy-corp/lmp)? Every"
                + " rule that matches this delivery plans its jobs again, under the rules in force now.");
        replay.dismiss();
        assertThat(browser.findElement(By.id("result")).getText()).isEmpty();
        assertThat(server.getJson("jobs?delivery=" + deliveryId).path("items").size()).isEqualTo(2);
        assertThat(server.getJson("actions?delivery=" + deliveryId).path("items").findValuesAsText("action"))
                .containsExactly("rerun");
    }

    /**
     * tryout39 F6: Approve of a job whose rule is not in force (removed while the server was stopped) asked only "It
     * starts as soon as its rule allows", and the approval's answer saying it runs the command it was stored with was
     * not shown at all. The question says it now, from the approval's preview, and the page shows the answer's
     * warning below what happened.
     */
    @Test
    void approveOfAJobWhoseRuleIsNotInForceSaysSoBeforeAndAfter(@TempDir Path dir) throws Exception {
        ApprovalOfARuleNotInForceTest.Removed removed = ApprovalOfARuleNotInForceTest.removedWhileStopped(dir);
        try (AdminServer server = removed.server()) {
            browser = startBrowser();
            browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + removed.job());

            onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Approve']")).click());
            Alert ask = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> browser.switchTo().alert(), a -> a != null);
            assertThat(ask.getText()).isEqualTo("Approve job deploy (" + removed.job() + "), build 67 of andy-corp/lmp?"
                    + " It starts as soon as its rule allows; this cannot be undone.\n\nWarning: " + removed.warning());
            ask.dismiss();
            assertThat(browser.findElement(By.id("result")).getText()).isEmpty();
            assertThat(server.getJson("jobs/" + removed.job()).path("job").path("state").asText())
                    .isEqualTo("AWAITING_APPROVAL");

            onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Approve']")).click());
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.switchTo().alert(),
                    a -> a != null).accept();
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                    .findElement(By.id("result")).getText().startsWith("Approved; the job starts."));
            assertThat(browser.findElement(By.cssSelector("#result .warning")).getText())
                    .isEqualTo("Warning: " + removed.warning());
            screenshot("status-page-approve-rule-not-in-force.png");
        }
    }

    /**
     * approve41: Approve of a job whose rule's command was fixed in the rules file since the job was stored asked only
     * "It starts as soon as its rule allows", and the stored (broken) command ran. The question says it, from the
     * approval's preview: what differs, that the stored command runs, and the reject and replay that run the rule's.
     */
    @Test
    void approveOfAJobWhoseRuleWasEditedSinceSaysTheStoredCommandRuns(@TempDir Path dir) throws Exception {
        ApprovalOfAnEditedRuleTest.Edited edited = ApprovalOfAnEditedRuleTest.editedWhileItWaits(dir);
        try (AdminServer server = edited.server()) {
            browser = startBrowser();
            browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + edited.job());

            onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Approve']")).click());
            Alert ask = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                    .until(() -> browser.switchTo().alert(), a -> a != null);
            assertThat(ask.getText()).isEqualTo("Approve job deploy (" + edited.job() + "), build 67 of andy-corp/lmp?"
                    + " It starts as soon as its rule allows; this cannot be undone.\n\nWarning: " + edited.warning());
            ask.dismiss();
            assertThat(server.getJson("jobs/" + edited.job()).path("job").path("state").asText())
                    .isEqualTo("AWAITING_APPROVAL");
        }
    }

    /**
     * confirm34, tryout39 F6: Re-run of build 67's job after build 69's job of the same rule succeeded runs the older
     * build over the newer one; the CLI asked so, the page's question did not. It says it now, from the re-run's
     * preview.
     */
    @Test
    void reRunOfAnOlderBuildSaysItRunsOverTheNewerOneBeforeItIsSent(AdminServer server) throws Exception {
        String oldJob = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String newer = AdminServer.fixture("build-67-passed.json").replace("\"build_id\": 67", "\"build_id\": 69")
                .replace("/builds/67/", "/builds/69/");
        String newJob = server.awaitJob(server.deliverBody(newer.getBytes(StandardCharsets.UTF_8)), "SUCCEEDED")
                .path("id").asText();
        String warning = server.getJson("jobs/" + oldJob + "/rerun-warnings").path("warnings").path(0).asText();
        assertThat(warning).startsWith("build 67 of andy-corp/lmp is older than build 69, whose 'echo' job (" + newJob
                + ") succeeded at ");
        browser = startBrowser();
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + oldJob);

        onTheLivePage(() -> browser.findElement(By.xpath("//button[text()='Re-run']")).click());
        Alert ask = await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> browser.switchTo().alert(), a -> a != null);
        assertThat(ask.getText()).isEqualTo("Re-run job echo (" + oldJob + "), build 67 of andy-corp/lmp? Its command"
                + " runs again now as a new job.\n\nWarning: " + warning);
        ask.dismiss();
        assertThat(server.getJson("jobs?rule=echo").path("items").size()).isEqualTo(2);
    }

    /**
     * tryout20 F7: a job that a stop cut short runs again after the next start; its line in the list and its
     * page say it is on its second attempt and that the first was interrupted, and keep saying it when a live
     * update shows it ended (no reload: a mark the page's script cannot set stays on the window).
     */
    @Test
    void aJobRunAgainAfterARestartShowsItsAttemptsOnItsLineAndItsPageLive(@TempDir Path dir) throws Exception {
        RestartedJobAttemptsTest.Restarted restarted = RestartedJobAttemptsTest.cutShortAndRestarted(dir);
        try (AdminServer server = restarted.server()) {
            browser = startBrowser();
            browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + restarted.jobId());
            onTheLivePage(() -> assertThat(browser.findElement(By.id("job-state")).getText())
                    .contains("RUNNING").contains("Attempts 2 (1 interrupted)"));
            browser.get(server.uri().toString());
            By line = By.cssSelector("li.job-line[data-job='" + restarted.jobId() + "']");
            onTheLivePage(() -> assertThat(browser.findElement(line).getText()).contains("RUNNING")
                    .contains("attempts 2 (1 interrupted)"));
            browser.executeScript("window.notReloaded = true;");

            Files.writeString(dir.resolve("go"), "");

            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.findElement(line).getText()
                    .contains("SUCCEEDED"));
            onTheLivePage(() -> assertThat(browser.findElement(line).getText()).contains("attempts 2 (1 interrupted)"));
            assertThat(browser.executeScript("return window.notReloaded === true;")).isEqualTo(true);
            screenshot("status-page-restarted-job.png");
        }
    }

    /**
     * tryout21 F2: a job's page watched to the job's end said "final" and stopped asking, without its
     * follow-up (the next step of the workflow, stored just after the end) nor the follow-up's own end:
     * those rows were drawn once with the page. They are live now, and the page asks until the follow-up
     * is stored and has ended; then it says "final". No reload.
     */
    @Test
    void aJobsPageWatchedToItsEndShowsTheFollowUpItStartedAndTheFollowUpsEnd(AdminServer server) throws Exception {
        Files.writeString(server.dir.resolve("step.sh"), "echo step started\nwhile [ ! -f '" + server.dir
                + "/go-step' ]; do [ -d '" + server.dir + "' ] || exit 1; sleep 0.1; done\necho step finished\n");
        Files.writeString(server.dir.resolve("next.sh"), "echo next started\nwhile [ ! -f '" + server.dir
                + "/go-next' ]; do [ -d '" + server.dir + "' ] || exit 1; sleep 0.1; done\necho next finished\n");
        server.replaceRules("rules:\n  - name: step\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("step.sh") + "']\n    on-success:\n      command: [/bin/sh, '"
                + server.dir.resolve("next.sh") + "']\n");
        server.app().rules().checkNow();
        String step = server.awaitJob(server.deliver("build-67-passed.json"), "RUNNING").path("id").asText();
        browser = startBrowser();
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + step);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.cssSelector("pre.log")).getText().contains("step started"));
        onTheLivePage(() -> assertThat(browser.findElement(By.id("plan")).getText()).doesNotContain("Follow-ups"));
        browser.executeScript("window.noReload = 'the step page';");

        Files.writeString(server.dir.resolve("go-step"), "");

        String next = AdminCommandsTest.byRule(await().atMost(Duration.ofSeconds(60)).until(() -> server.getJson(
                "jobs?parent=" + step).path("items"), items -> items.size() == 1), "step/on-success");
        By followUp = By.cssSelector("#plan a.job[href='?job=" + next + "']");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.findElement(followUp)
                .getText().equals("step/on-success"));
        onTheLivePage(() -> {
            assertThat(browser.findElement(By.id("job-state")).getText()).contains("SUCCEEDED");
            assertThat(browser.findElement(By.id("live-status")).getText()).startsWith("live");
        });
        Files.writeString(server.dir.resolve("go-next"), "");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.findElement(By.id("plan"))
                .getText().contains("step/on-success SUCCEEDED"));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(
                By.id("live-status")).getText().startsWith("final"));
        assertThat(browser.executeScript("return window.noReload")).isEqualTo("the step page");
        screenshot("status-page-job-follow-up.png");
    }

    /**
     * At 1300 px (a laptop's browser window), the recent deliveries fit: the page does not scroll
     * sideways and each delivery's Replay button is wholly in sight, not beyond the right edge of a
     * table that scrolls inside its box (found by try-out 7). Narrower, the page itself still does not
     * scroll sideways, and the Replay buttons stay in sight while the table scrolls inside its box.
     */
    /**
     * tryout33 F7: the job page and the rules in force showed a secret in the command (an Authorization header)
     * and under names outside the old list (DB_PWD, GITHUB_PAT, SLACK_WEBHOOK_URL) in clear. In Chromium, as an
     * operator sees them, neither shows any of them.
     */
    @Test
    void theJobPageAndTheRulesInForceShowNoSecretWhateverItsNameOrPlace(AdminServer server) throws Exception {
        server.replaceRules("rules:\n  - name: argsecret\n    when: {status: PASSED}\n    run:\n"
                + "      command: [/bin/true, \"Authorization: Bearer sk-live-abc123\", --password, hunter3]\n"
                + "      env: {SLACK_WEBHOOK_URL: \"https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX\","
                + " GITHUB_PAT: ghp_abcdef123456, DB_PWD: hunter2, TARGET: staging}\n");
        server.app().rules().checkNow();
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        List<String> secrets = List.of("sk-live-abc123", "hunter3", "XXXXsecretXXXX", "abcdef123456", "hunter2");
        browser = startBrowser();
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + jobId);

        onTheLivePage(() -> assertThat(browser.findElement(By.id("plan")).getText())
                .contains("Authorization: Bearer ***", "TARGET", "staging").doesNotContain(secrets));
        assertThat(browser.getPageSource()).doesNotContain(secrets);
        browser.get(server.uri().toString());
        onTheLivePage(() -> assertThat(browser.findElement(By.id("rules")).getText()).contains("argsecret"));
        assertThat(browser.getPageSource()).contains("Authorization: Bearer ***").doesNotContain(secrets);
    }

    @Test
    void theDeliveriesFitA1300PixelWideWindowWithEveryReplayButtonInSight(AdminServer server) throws Exception {
        server.replaceRules(everyStateRules(server.dir));
        server.app().rules().checkNow();
        server.deliver("build-67-passed.json");
        server.deliver("build-68-failed.json");
        server.deliver("build-412-promoted.json");
        awaitStates(server, "per-run", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED");
        awaitStates(server, "wait", "RUNNING");
        awaitStates(server, "slow", "TIMED_OUT");
        browser = startBrowser();

        for (int width : List.of(1300, 1400, 1024, 800)) {
            browser.manage().window().setSize(new Dimension(width, 1000));
            browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
            String layout = String.valueOf(browser.executeScript("""
                    var page = document.documentElement;
                    var box = document.getElementById('live-deliveries').getBoundingClientRect();
                    var cut = [];
                    document.querySelectorAll('tr.delivery button[data-post$="/replay"]').forEach(function (b) {
                      var r = b.getBoundingClientRect();
                      if (r.left < 0 || r.right > page.clientWidth || r.right > box.right) {
                        cut.push(Math.round(r.left) + '..' + Math.round(r.right));
                      }
                    });
                    return 'page ' + page.scrollWidth + ' of ' + page.clientWidth + ' px; box right '
                        + Math.round(box.right) + '; replay buttons ' + document.querySelectorAll(
                        'tr.delivery button[data-post$="/replay"]').length + ', cut off: [' + cut.join(', ') + ']';
                    """));
            int pageWidth = ((Number) browser.executeScript("return document.documentElement.clientWidth")).intValue();
            assertThat(layout).as(width + " px").startsWith("page " + pageWidth + " of " + pageWidth + " px");
            // Narrower, the table scrolls inside its box, but its last column, Replay, stays in sight.
            assertThat(layout).as(width + " px").contains("replay buttons 3,").endsWith("cut off: []");
            screenshot("status-console-" + width + ".png");
        }
    }

    /**
     * tryout21 F8.8: at 800 px the page itself scrolled sideways: the Rules table, in no box of its own,
     * with a rule's 30 recent-job bars and its durations on one line, was wider than the window. Now the
     * page does not scroll sideways with a full Rules table either, and at 800 px the table fits
     * without scrolling inside its box.
     */
    @Test
    void aRuleWithThirtyRecentJobsDoesNotMakeAnEightHundredPixelWindowScrollSideways(AdminServer server)
            throws Exception {
        server.replaceRules("rules:\n  - name: soak-shards-of-the-nightly-build\n    when: {status: PASSED}\n"
                + "    run:\n      command: [/bin/sh, '" + server.dir.resolve("echo.sh") + "', '${build.id}']\n"
                + "      timeout: 10m\n");
        server.app().rules().checkNow();
        String[] ended = new String[30];
        for (int i = 0; i < 30; i++) {
            server.deliverBody(build(1000 + i, "build-67-passed.json").getBytes(StandardCharsets.UTF_8));
            ended[i] = "SUCCEEDED";
        }
        awaitStates(server, "soak-shards-of-the-nightly-build", ended);
        browser = startBrowser();
        browser.manage().window().setSize(new Dimension(800, 1000));

        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        onTheLivePage(() -> {
            WebElement row = browser.findElement(By.cssSelector(
                    "#rule-health tr[data-rule='soak-shards-of-the-nightly-build']"));
            assertThat(row.findElements(By.cssSelector("svg.history rect"))).hasSize(30);
            assertThat(row.findElement(By.cssSelector("svg.gauge")).isDisplayed()).isTrue();
        });
        String page = String.valueOf(browser.executeScript("var p = document.documentElement;"
                + " var box = document.getElementById('rule-health').parentElement;"
                + " return 'page ' + p.scrollWidth + ' of ' + p.clientWidth + ' px'"
                + " + (box.scrollWidth > box.clientWidth ? '; the rules scroll in their box' : '');"));
        int pageWidth = ((Number) browser.executeScript("return document.documentElement.clientWidth")).intValue();
        screenshot("status-console-rules-800.png");
        assertThat(page).isEqualTo("page " + pageWidth + " of " + pageWidth + " px");
    }

    /** Rules that put jobs in every state; {@code wait} runs one at a time, so its next jobs queue. */
    private static String everyStateRules(Path dir) throws Exception {
        Files.writeString(dir.resolve("fail.sh"), "echo boom >&2\nexit 3\n");
        Files.writeString(dir.resolve("slow.sh"), "echo sleeping\nsleep 60\n");
        return "rules:\n"
                + "  - name: echo\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("echo.sh") + "', '${build.id}']\n      timeout: 30s\n"
                + "  - name: per-run\n    when:\n      status: PASSED\n      runs: {match: each, name: 'build-a*'}\n"
                + "    run:\n      command: [/bin/sh, '" + dir.resolve("echo.sh") + "', '${run.name}']\n"
                + "      timeout: 30s\n"
                + "  - name: fails\n    when: {status: FAILED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("fail.sh") + "']\n      timeout: 30s\n"
                + "  - name: wait\n    when: {status: FAILED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("wait.sh") + "']\n      timeout: 5m\n      concurrency: 1\n"
                + "  - name: slow\n    when: {status: PROMOTED}\n    run:\n      command: [/bin/sh, '"
                + dir.resolve("slow.sh") + "']\n      timeout: 1s\n";
    }

    private static List<String> states(AdminServer server, String rule) throws Exception {
        List<String> states = new java.util.ArrayList<>(server.getJson("jobs?rule=" + rule + "&limit=100")
                .path("items").findValuesAsText("state"));
        java.util.Collections.sort(states);
        return states;
    }

    private static void awaitStates(AdminServer server, String rule, String... states) {
        List<String> wanted = new java.util.ArrayList<>(List.of(states));
        java.util.Collections.sort(wanted);
        await().atMost(Duration.ofSeconds(60)).until(() -> states(server, rule).equals(wanted));
    }

    private static String build(int id, String fixture) throws Exception {
        String body = AdminServer.fixture(fixture);
        return body.replaceFirst("\"build_id\": \\d+", "\"build_id\": " + id);
    }

    private static String tile(ChromeDriver browser, String name) {
        return browser.findElement(By.id("tile-" + name)).findElement(By.cssSelector(".value")).getText();
    }

    @Test
    void showsDeliveriesAndJobsInEveryStateAtAGlanceAndUpdatesWithoutAReload(AdminServer server) throws Exception {
        server.replaceRules(everyStateRules(server.dir));
        server.app().rules().checkNow();
        assertThat(server.app().rules().current().ruleNames()).contains("per-run", "slow");
        String passed = server.deliver("build-67-passed.json");
        server.deliver("build-67-passed.json");
        String failed = server.deliver("build-68-failed.json");
        awaitStates(server, "wait", "RUNNING");
        server.deliverBody(build(69, "build-68-failed.json").getBytes(StandardCharsets.UTF_8));
        server.deliverBody(build(70, "build-68-failed.json").getBytes(StandardCharsets.UTF_8));
        awaitStates(server, "wait", "QUEUED", "QUEUED", "RUNNING");
        String toCancel = server.getJson("jobs?rule=wait&state=QUEUED&limit=1").path("items").path(0).path("id")
                .asText();
        assertThat(server.post("jobs/" + toCancel + "/cancel").statusCode()).isLessThan(300);
        server.deliver("build-412-promoted.json");
        HttpResponse<String> rejected = server.http.send(HttpRequest.newBuilder(server.uri().resolve("webhook"))
                .header("X-JobServ-Sig", Signer.sign("not json".getBytes(StandardCharsets.UTF_8),
                        AdminServer.SECRET.getBytes(StandardCharsets.UTF_8)))
                .POST(HttpRequest.BodyPublishers.ofString("not json")).build(), HttpResponse.BodyHandlers.ofString());
        HttpResponse<String> refused = server.http.send(HttpRequest.newBuilder(server.uri().resolve("webhook"))
                .header("X-JobServ-Sig", "sha256:" + "0".repeat(64))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(rejected.statusCode()).isEqualTo(400);
        assertThat(refused.statusCode()).isEqualTo(401);
        awaitStates(server, "echo", "SUCCEEDED");
        awaitStates(server, "per-run", "SUCCEEDED", "SUCCEEDED", "SUCCEEDED");
        awaitStates(server, "fails", "FAILED", "FAILED", "FAILED");
        awaitStates(server, "wait", "CANCELLED", "QUEUED", "RUNNING");
        awaitStates(server, "slow", "TIMED_OUT");
        browser = startBrowser();
        browser.manage().window().setSize(new Dimension(1400, 1900));

        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        String duplicate = server.getJson("deliveries?outcome=DUPLICATE").path("items").path(0).path("id").asText();
        onTheLivePage(() -> {
            assertThat(tile(browser, "deliveries")).isEqualTo("7");
            assertThat(browser.findElement(By.id("tile-deliveries")).getText()).contains("5 accepted")
                    .contains("1 duplicate").contains("1 rejected");
            assertThat(tile(browser, "jobs")).isEqualTo("11");
            assertThat(tile(browser, "failures")).isEqualTo("4");
            assertThat(tile(browser, "queued")).isEqualTo("1");
            assertThat(tile(browser, "running")).isEqualTo("1");
            assertThat(tile(browser, "refused")).isEqualTo("1");
            assertThat(browser.findElement(By.id("tile-refused")).getText()).contains("no configured secret matches")
                    .doesNotContain(AdminServer.SECRET);
            List<WebElement> rules = browser.findElements(By.cssSelector("#rule-health tr.rule"));
            assertThat(rules).extracting(r -> r.getAttribute("data-rule"))
                    .as("in the rules file's order").containsExactly("echo", "per-run", "fails", "wait", "slow");
            for (WebElement rule : rules) {
                assertThat(rule.findElement(By.cssSelector("svg.history")).isDisplayed()).isTrue();
            }
            assertThat(browser.findElement(By.cssSelector("#rule-health tr[data-rule='per-run']")).getText())
                    .contains("SUCCEEDED").contains("100%");
            assertThat(browser.findElement(By.cssSelector("#rule-health tr[data-rule='fails']")).getText())
                    .contains("FAILED").contains("0%");
            assertThat(browser.findElement(By.cssSelector("#rule-health tr[data-rule='echo'] svg.gauge")).isDisplayed())
                    .isTrue();
            WebElement passedRow = browser.findElement(By.cssSelector("tr.delivery[data-id='" + passed + "']"));
            assertThat(passedRow.findElements(By.cssSelector(".run"))).extracting(WebElement::getText)
                    .containsExactlyInAnyOrder("build-amd64-partner", "build-armhf", "build-aarch64");
            assertThat(passedRow.findElements(By.cssSelector("a.log"))).extracting(a -> a.getAttribute("href"))
                    .contains("https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/build-aarch64/console.log");
            assertThat(passedRow.findElement(By.cssSelector("a.build")).getAttribute("href"))
                    .isEqualTo("https://ci.foundries.io/projects/andy-corp/lmp/builds/67");
            assertThat(passedRow.findElements(By.cssSelector(".dur"))).isNotEmpty();
            WebElement duplicateChip = browser.findElement(By.cssSelector("tr.delivery[data-id='" + duplicate
                    + "'] .chip"));
            WebElement failedChip = browser.findElement(By.cssSelector("tr.delivery[data-id='" + failed
                    + "'] .chip.tone-bad"));
            assertThat(duplicateChip.getText()).isEqualTo("DUPLICATE");
            assertThat(duplicateChip.getCssValue("color")).isNotEqualTo(failedChip.getCssValue("color"));
            assertThat(browser.findElements(By.id("rules-banner"))).isEmpty();
        });
        screenshot("status-console.png");

        // Live: a new delivery, a refused rules file and the job's end appear without a reload.
        browser.executeScript("window.noReload = 'still the same page';");
        String later = server.deliverBody(build(71, "build-67-passed.json").getBytes(StandardCharsets.UTF_8));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> !browser.findElements(
                By.cssSelector("tr.delivery[data-id='" + later + "']")).isEmpty());
        server.replaceRules("rules:\n  - name: <broken>\n    colour: red\n");
        server.app().rules().checkNow();
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(
                By.id("rules-banner")).isDisplayed());
        onTheLivePage(() -> {
            assertThat(browser.findElement(By.id("rules-banner")).getText()).contains("refused").contains("colour");
            assertThat(browser.executeScript("return window.noReload")).isEqualTo("still the same page");
            assertThat(browser.findElement(By.id("live-status")).getText()).contains("updated");
        });
        screenshot("status-console-refused-rules.png");

        String running = server.getJson("jobs?rule=wait&state=RUNNING").path("items").path(0).path("id").asText();
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN + "&job=" + running);
        assertThat(browser.getCurrentUrl()).endsWith("/?job=" + running);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.cssSelector("pre.log")).getText().contains("started"));
        onTheLivePage(() -> {
            assertThat(browser.findElement(By.id("job-state")).getText()).contains("RUNNING");
            assertThat(browser.findElement(By.id("plan")).getText()).contains("andy-corp/lmp")
                    .contains("platform-main").contains("5m").contains("BUILDHOOK_BUILD_ID");
        });
        screenshot("status-console-job-running.png");
        browser.executeScript("window.noReload = 'the job page';");
        Files.writeString(server.dir.resolve("go"), "");
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.cssSelector("pre.log")).getText().contains("finished"));
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser
                .findElement(By.id("job-state")).getText().contains("SUCCEEDED"));
        assertThat(browser.executeScript("return window.noReload")).isEqualTo("the job page");
        screenshot("status-console-job-ended.png");
    }

    /**
     * Runs checks of a page that swaps its live parts at every poll: when a swap lands between two
     * steps of the checks (a find and a read of what it found: likely on a busy machine, the CI
     * run under stress-ng of 2026-12-01 met it), the element read is stale, and the checks run
     * again on the page as it is now, up to 30 s. A failed assertion fails at once.
     */
    private static void onTheLivePage(PageChecks checks) {
        await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO)
                .ignoreException(StaleElementReferenceException.class).until(() -> {
                    checks.run();
                    return true;
                });
    }

    /** Checks of the page, run again by {@link #onTheLivePage} when a live update made them stale. */
    @FunctionalInterface
    private interface PageChecks {
        void run() throws Exception;
    }

    /** The id of the job of rule {@code rule} of delivery {@code delivery}, once it is in {@code state}. */
    private static String awaitRule(AdminServer server, String delivery, String rule, String state) {
        String[] id = new String[1];
        await().atMost(Duration.ofMinutes(3)).until(() -> {
            for (JsonNode job : server.getJson("jobs?delivery=" + delivery).path("items")) {
                if (job.path("rule").asText().equals(rule) && job.path("state").asText().equals(state)) {
                    id[0] = job.path("id").asText();
                    return true;
                }
            }
            return false;
        });
        return id[0];
    }

    private static List<String> jobLinks(WebElement cell) {
        return cell.findElements(By.cssSelector("li[data-job]")).stream().map(li -> li.getAttribute("data-job")).toList();
    }

    private static String jobOf(AdminServer server, String rule, String state) throws Exception {
        return server.getJson("jobs?rule=" + rule + "&state=" + state + "&limit=1").path("items").path(0).path("id")
                .asText();
    }

    @Test
    void showsEachSharedResourceWithItsHoldersAndWaitersInOrderAndFollowsThemLive(AdminServer server) throws Exception {
        // Each job holds its boards until its own go file exists.
        Files.writeString(server.dir.resolve("hold.sh"), "echo holding\nwhile [ ! -f '" + server.dir + "/go-'$1 ];"
                + " do [ -d '" + server.dir + "' ] || exit 1; sleep 0.1; done\n");
        server.replaceRules("resources:\n  boards: 2\n  power-switch: 1\n"
                + "rules:\n"
                + "  - name: flash\n    when: {status: PASSED}\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("hold.sh") + "', '${build.id}']\n      resources: {boards: 1}\n"
                + "  - name: soak\n    when: {status: FAILED}\n    run:\n      command: [/bin/sh, '"
                + server.dir.resolve("hold.sh") + "', '${build.id}']\n      resources: {boards: 2}\n");
        server.app().rules().checkNow();
        server.deliver("build-67-passed.json");
        awaitStates(server, "flash", "RUNNING");
        server.deliver("build-68-failed.json");
        awaitStates(server, "soak", "WAITING");
        // Build 69 finds a board free, but soak waits ahead of it for the same resource: first come, first served.
        server.deliverBody(build(69, "build-67-passed.json").getBytes(StandardCharsets.UTF_8));
        awaitStates(server, "flash", "RUNNING", "WAITING");
        String flash67 = jobOf(server, "flash", "RUNNING");
        String soak68 = jobOf(server, "soak", "WAITING");
        String flash69 = jobOf(server, "flash", "WAITING");
        browser = startBrowser();
        browser.manage().window().setSize(new Dimension(1400, 1400));

        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);

        onTheLivePage(() -> {
            WebElement boards = browser.findElement(By.cssSelector("#resources tr.resource[data-resource='boards']"));
            assertThat(boards.findElement(By.cssSelector(".units")).getText()).isEqualTo("1 of 2");
            List<WebElement> cells = boards.findElements(By.tagName("td"));
            assertThat(jobLinks(cells.get(2))).containsExactly(flash67);
            assertThat(cells.get(2).getText()).contains("flash").contains("1 unit");
            assertThat(jobLinks(cells.get(3))).as("waiting, first in line first").containsExactly(soak68, flash69);
            assertThat(cells.get(3).getText()).contains("soak wants 2 units").contains("flash wants 1 unit");
            assertThat(browser.findElement(By.cssSelector(
                    "#resources tr.resource[data-resource='power-switch'] .units")).getText()).isEqualTo("0 of 1");
            assertThat(cells.get(2).findElement(By.cssSelector("a.job")).getAttribute("href"))
                    .endsWith("?job=" + flash67);
        });
        screenshot("status-console-resources.png");

        // Live: flash-67 gives its board back, soak-68 takes both, flash-69 still waits; no reload.
        browser.executeScript("window.noReload = 'still the same page';");
        Files.writeString(server.dir.resolve("go-67"), "");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> jobLinks(browser.findElements(
                By.cssSelector("#resources tr.resource[data-resource='boards'] td")).get(2)).equals(List.of(soak68)));
        onTheLivePage(() -> {
            WebElement now = browser.findElement(By.cssSelector("#resources tr.resource[data-resource='boards']"));
            assertThat(now.findElement(By.cssSelector(".units")).getText()).isEqualTo("2 of 2");
            assertThat(jobLinks(now.findElements(By.tagName("td")).get(3))).containsExactly(flash69);
            assertThat(browser.executeScript("return window.noReload")).isEqualTo("still the same page");
        });
        screenshot("status-console-resources-live.png");

        Files.writeString(server.dir.resolve("go-68"), "");
        Files.writeString(server.dir.resolve("go-69"), "");
        await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> browser.findElement(
                By.cssSelector("#resources tr.resource[data-resource='boards'] .units")).getText().equals("0 of 2"));
        awaitStates(server, "flash", "SUCCEEDED", "SUCCEEDED");
        awaitStates(server, "soak", "SUCCEEDED");
    }
}
