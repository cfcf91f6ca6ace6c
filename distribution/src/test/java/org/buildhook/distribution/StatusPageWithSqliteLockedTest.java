package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.distribution.AbstractProxiedServeTest.SqliteLockHeld;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The status page of a standalone server on SQLite while another program holds the database's write lock
 * ({@code BEGIN EXCLUSIVE} in this test's JVM, a process apart from the server's): every delivery is answered
 * 503 and {@code /healthz} says the store cannot write, and the page, the first place an operator looks, said
 * nothing (tryout22 F2). Now a red banner at its top says so, in the words of {@code /healthz} and the log, with
 * the file and what to do: over HTTP, and in a real Chromium on a page opened before the lock, by itself (the
 * page polls), and it goes away by itself once the lock is let go.
 */
class StatusPageWithSqliteLockedTest extends ServeInChromium {

    private static final HttpClient HTTP = HttpClient.newHttpClient();


    @Test
    void whileAnotherProgramHoldsTheWriteLockTheOpenPageShowsARedBannerThatGoesAwayByItself() throws Exception {
        Chromium.required();
        Path out = dir.resolve("serve.out");
        Process server = serveQuickRule(out);
        URI base = ServeProcesses.awaitUrl(server, dir.resolve("data"));
        Path db = dir.resolve("data").resolve("buildhook.db").toAbsolutePath();
        browser = Chromium.start(dir.resolve("profile"));
        browser.get(base + "?token=" + ServeProcesses.FOLLOW_TOKEN);
        await().atMost(Duration.ofMinutes(1)).until(() -> !browser.findElements(By.id("summary")).isEmpty());
        assertThat(browser.findElements(By.id("store-banner"))).as("no banner while the store writes").isEmpty();

        try (SqliteLockHeld lock = new SqliteLockHeld("jdbc:sqlite:" + db)) {
            lock.start();
            assertThat(ServeProcesses.sendSample(base, dir, new java.io.StringWriter())).as("a delivery is refused")
                    .isNotZero();

            // The open page, not reloaded, shows it at its top.
            await().atMost(Duration.ofMinutes(2)).until(() -> !browser.findElements(By.id("store-banner")).isEmpty());
            WebElement banner = browser.findElement(By.id("store-banner"));
            String healthz = get(base.resolve("healthz")).body();
            assertThat(healthz).contains("\"status\":\"unavailable\"")
                    .contains("the store cannot write: its SQLite database is locked by another program");
            assertThat(banner.getText()).startsWith("Deliveries are answered 503 since ")
                    .contains("and jobs are not started.")
                    .contains("The store cannot write: its SQLite database is locked by another program")
                    .contains("SQLite database " + db + " is locked by another program")
                    .contains("fuser -v " + db).contains("goes away by itself");
            assertThat(browser.findElement(By.id("live-top")).findElements(By.cssSelector(".banner")).get(0).getAttribute("id"))
                    .as("at the top").isEqualTo("store-banner");
            assertThat(Files.readString(out)).as("the log's words").contains("the store cannot write: SQLite database "
                    + db + " is locked by another program");
            Chromium.screenshot(browser, "status-page-sqlite-locked.png");

            // Over HTTP, a page opened now and its live part say the same.
            for (URI page : new URI[] {base, base.resolve("?part=live")}) {
                HttpResponse<String> answer = get(page);
                assertThat(answer.statusCode()).as(page.toString()).isEqualTo(200);
                assertThat(answer.body()).as(page.toString()).contains("id=\"store-banner\"")
                        .contains("The store cannot write: its SQLite database is locked by another program")
                        .contains("fuser -v " + db);
            }
        }

        // Let go: the banner leaves the open page by itself, and /healthz says ok.
        await().atMost(Duration.ofMinutes(2)).until(() -> browser.findElements(By.id("store-banner")).isEmpty());
        await().atMost(Duration.ofMinutes(1)).until(() -> get(base.resolve("healthz")).statusCode() == 200);
        assertThat(get(base).body()).doesNotContain("store-banner");
        assertThat(ServeProcesses.sendSample(base, dir, new java.io.StringWriter())).as("accepted again").isZero();
    }

    /** A GET with the admin token of {@link ServeProcesses#followConfig}, waiting at most 2 minutes. */
    static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(120))
                .header("Authorization", "Bearer " + ServeProcesses.FOLLOW_TOKEN).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
