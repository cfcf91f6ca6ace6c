package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.Alert;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

/**
 * cluster27 F3: the status page's Nodes panel in a real headless Chromium: the node is shown with its row, at 1280
 * and 800 px without the page scrolling sideways, and the panel follows the node without a reload (its running
 * job appears and goes with the page's live update). tryout29 F9: from 360 to 1280 px, every cell of the row in the
 * window, the list's box not scrolling sideways, the state on at most 3 lines (one block per node below 901 px).
 * Leaves {@code target/nodes-panel-1280.png} … {@code nodes-panel-360.png}. Skipped without Chromium, except on CI ({@code CI=true}), where that fails.
 */
class NodesPanelBrowserTest extends AdminServerInChromium {

    @Test
    void showsThisNodeAndItsRunningJobsAsTheyChangeAtAnyWidth() throws Exception {
        server = AdminServer.start(dir);
        String id = server.app().config().engine().nodeId();
        String row = "#nodes tr.node[data-node='" + id + "']";
        browser = Chromium.start(profile);
        browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.cssSelector(row))
                .isDisplayed());
        assertThat(cells(row).get(5)).isEqualTo("0");

        // A job starts: the open page shows it in the node's row by its live update.
        server.deliver("build-68-failed.json");
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> cells(row).get(5).equals("1"));
        List<String> cells = cells(row);
        assertThat(cells.get(0)).isEqualTo(id + " this node");
        assertThat(cells.get(2)).isEqualTo(Long.toString(ProcessHandle.current().pid()));
        assertThat(cells.get(7)).isEqualTo("this node, the only one (a SQLite store has one node)");
        // tryout29 F9: at 360 and 480 px the table scrolled sideways in its box, the state (red when a node is not
        // heard from, the thing to act on) out of sight; at 600 px the state wrapped over 7 lines. Below 901 px the
        // list is one block per node, its state on a line of its own.
        for (int width : List.of(1280, 901, 900, 800, 600, 480, 360)) {
            browser.manage().window().setSize(new Dimension(width, 900));
            browser.executeScript("document.getElementById('nodes').scrollIntoView();");
            Chromium.screenshot(browser, "nodes-panel-" + width + ".png");
            assertThat(browser.executeScript("return document.documentElement.scrollWidth"
                    + " <= document.documentElement.clientWidth;")).as("the page at %d px scrolls sideways", width)
                    .isEqualTo(true);
            assertThat(layout(row)).as("the Nodes list at %d px", width).containsEntry("outside", List.of())
                    .containsEntry("boxScrollsSideways", false).containsEntry("stateOnFewLines", true);
        }

        server.dir.resolve("go").toFile().createNewFile();
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> cells(row).get(5).equals("0"));
    }

    /**
     * page30: the panel had no way to forget a node killed and never started again (nodes29: {@code DELETE
     * /api/nodes/{id}}, {@code buildhook nodes forget ID}). A node of another host silent for two hours, its claim
     * and its picked job written to a real PostgreSQL as such a node leaves them: its row has a Forget button (this
     * node's has none) that asks first, and sends nothing when cancelled; confirmed, the server's refusal ({@code
     * 409}: its job is not taken over yet) is shown in its words; once its job is taken over, it is forgotten and its
     * row goes without a reload. Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI.
     */
    @Test
    void aSilentNodeIsForgottenByItsButtonOnceConfirmedAndARefusalIsShownInTheServersWords() throws Exception {
        TestSchema pg = TestSchema.create("nodes_page_");
        try {
            server = AdminServer.clusterNode(Files.createDirectories(dir.resolve("a")), pg.storeUrl, "node-a",
                    "rules:\n  - name: deploy\n    run: {command: [/bin/true]}\n");
            NodesListTest.claimWithAPickedJob(pg, "node-c", "host-c", "other-boot", 4242,
                    System.currentTimeMillis() - Duration.ofHours(2).toMillis());
            String silent = "#nodes tr.node[data-node='node-c']";
            browser = Chromium.start(profile);
            browser.get(server.uri() + "?token=" + AdminServer.TOKEN);
            await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.findElement(By.cssSelector(
                    silent)).getAttribute("data-state").equals("silent"));
            assertThat(browser.findElements(By.cssSelector("#nodes tr.node[data-node='node-a'] button"))).isEmpty();
            browser.executeScript("window.notReloaded = true;");

            // Cancelled: nothing is sent.
            Alert ask = clickForget(silent);
            assertThat(ask.getText()).isEqualTo("Forget node node-c (host host-c)? It is no longer listed nor counted;"
                    + " its jobs' history keeps its name. A node started later with this id is listed again.");
            ask.dismiss();
            assertThat(text("result")).isEmpty();
            assertThat(server.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-a", "node-c");

            // Confirmed, refused: its job is not taken over yet. The server's words, and the node still listed.
            clickForget(silent).accept();
            await().atMost(Duration.ofMinutes(1)).until(() -> text("result").startsWith("Forget refused: node 'node-c'"
                    + " is silent (for 2h"));
            assertThat(text("result")).contains("but still holds 1 job(s) and 0 unit(s) of shared resources that no"
                    + " other node has taken over yet", "try again then");
            assertThat(server.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-a", "node-c");
            Chromium.screenshot(browser, "nodes-panel-forget-refused.png");

            try (Connection c = DriverManager.getConnection(pg.storeUrl); PreparedStatement p = c.prepareStatement(
                    "DELETE FROM scheduled_tasks WHERE task_instance = 'job-c'")) {
                p.executeUpdate(); // taken over
            }
            clickForget(silent).accept();

            await().atMost(Duration.ofMinutes(1)).until(() -> text("result").equals("Forgot node node-c; it is no"
                    + " longer listed."));
            await().atMost(Duration.ofMinutes(1)).until(() -> browser.findElements(By.cssSelector(silent)).isEmpty());
            assertThat(server.getJson("nodes").path("items").findValuesAsText("id")).containsExactly("node-a");
            assertThat(server.getJson("actions").path("items").path(0).path("action").asText()).isEqualTo("forget-node");
            assertThat(browser.executeScript("return window.notReloaded === true;")).as("not reloaded").isEqualTo(true);
        } finally {
            if (browser != null) {
                browser.quit();
                browser = null;
            }
            if (server != null) {
                server.close();
                server = null;
            }
            pg.close();
        }
    }

    /**
     * Clicks the Forget button of {@code row} (again if the live update replaced it between its find and click) and
     * answers the confirmation it asks.
     */
    private Alert clickForget(String row) {
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> {
            browser.findElement(By.cssSelector(row + " button.forget")).click();
            return true;
        });
        return await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> browser.switchTo().alert(),
                alert -> alert != null);
    }

    /** The visible text of the element {@code id}, or the empty string without one; read in one script. */
    private String text(String id) {
        return String.valueOf(browser.executeScript("var e = document.getElementById(arguments[0]);"
                + " return e ? e.innerText : '';", id));
    }

    /**
     * Where the cells of {@code row} are: those not wholly inside the window ({@code outside}), whether the Nodes
     * list's box scrolls sideways, and whether the state (the last cell) takes fewer than 4 lines.
     */
    @SuppressWarnings("unchecked")
    private java.util.Map<String, Object> layout(String row) {
        return (java.util.Map<String, Object>) browser.executeScript("""
                var page = document.documentElement, outside = [], cells = document.querySelectorAll(arguments[0] + ' > td');
                cells.forEach(function (e) {
                  var r = e.getBoundingClientRect();
                  if (r.left < 0 || r.right > page.clientWidth + 0.5) {
                    outside.push(e.textContent.substring(0, 20) + ' ' + Math.round(r.left) + '..' + Math.round(r.right)
                        + ' of ' + page.clientWidth);
                  }
                });
                var box = document.getElementById('nodes').parentElement, state = cells[cells.length - 1];
                var line = parseFloat(getComputedStyle(state).lineHeight);
                return {outside: outside, boxScrollsSideways: box.scrollWidth > box.clientWidth,
                    stateOnFewLines: state.getBoundingClientRect().height < 4 * line,
                    state: state.getBoundingClientRect().height + ' px, line ' + line};
                """, row);
    }

    private List<String> cells(String row) {
        return browser.findElements(By.cssSelector(row + " > td")).stream().map(e -> e.getText().strip()).toList();
    }
}
