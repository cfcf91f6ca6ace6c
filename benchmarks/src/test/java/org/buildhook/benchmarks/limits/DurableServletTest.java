package org.buildhook.benchmarks.limits;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The durable floor as vs-adnanh.sh runs it: a real process, real HTTP, its rows read back from SQLite. */
class DurableServletTest {

    @Test
    void everyBodyAnsweredWith202IsInItsDatabase(@TempDir Path dir) throws Exception {
        Process server = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), DurableServlet.class.getName(), "0", dir.toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String line;
            do {
                line = out.readLine();
                assertThat(line).as("the floor's output before it listens").isNotNull();
            } while (!line.startsWith("listening on "));
            URI uri = URI.create("http://127.0.0.1:" + line.substring("listening on ".length()).trim() + "/webhook");
            HttpClient client = HttpClient.newHttpClient();
            List<CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                answers.add(client.sendAsync(HttpRequest.newBuilder(uri)
                        .POST(HttpRequest.BodyPublishers.ofString("{\"build_id\": " + i + "}")).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            for (CompletableFuture<HttpResponse<String>> answer : answers) {
                assertThat(answer.get(60, TimeUnit.SECONDS).statusCode()).isEqualTo(202);
            }
            try (Connection db = new org.sqlite.JDBC().connect("jdbc:sqlite:" + dir.resolve("durable-floor.db"),
                    new Properties());
                    Statement s = db.createStatement();
                    ResultSet rows = s.executeQuery("SELECT count(*), count(DISTINCT body) FROM deliveries")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getInt(1)).isEqualTo(40);
                assertThat(rows.getInt(2)).isEqualTo(40);
            }
        } finally {
            server.destroy();
            server.waitFor(60, TimeUnit.SECONDS);
        }
    }
}
