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
