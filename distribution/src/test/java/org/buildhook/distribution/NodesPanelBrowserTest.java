package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;

/**
 * cluster27 F3: the status page's Nodes panel in a real headless Chromium: the node is shown with its row, at 1280
 * and 800 px without the page scrolling sideways, and the panel follows the node without a reload (its running
 * job appears and goes with the page's live update). Leaves {@code target/nodes-panel-1280.png} and
 * {@code nodes-panel-800.png}. Skipped without Chromium, except on CI ({@code CI=true}), where that fails.
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
        for (int width : List.of(1280, 800)) {
            browser.manage().window().setSize(new Dimension(width, 900));
            Chromium.screenshot(browser, "nodes-panel-" + width + ".png");
            assertThat(browser.executeScript("return document.documentElement.scrollWidth"
                    + " <= document.documentElement.clientWidth;")).as("the page at %d px scrolls sideways", width)
                    .isEqualTo(true);
        }

        server.dir.resolve("go").toFile().createNewFile();
        await().atMost(Duration.ofMinutes(1)).ignoreExceptions().until(() -> cells(row).get(5).equals("0"));
    }

    private List<String> cells(String row) {
        return browser.findElements(By.cssSelector(row + " > td")).stream().map(e -> e.getText().strip()).toList();
    }
}
