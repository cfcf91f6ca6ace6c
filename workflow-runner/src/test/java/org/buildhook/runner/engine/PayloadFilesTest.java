package org.buildhook.runner.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PayloadFilesTest {

    @TempDir
    Path dir;

    private final byte[] body = "{\"build_id\": 67, \"status\": \"PASSED\"}".getBytes(StandardCharsets.UTF_8);

    @Test
    void writesTheBodyIntoAFolderItMakes() throws Exception {
        Path file = dir.resolve("payloads/01ABC.json");
        assertThat(PayloadFiles.write(file, body)).isEqualTo(file);
        assertThat(Files.readAllBytes(file)).isEqualTo(body);
    }

    @Test
    void writesAgainAFileThatACrashLeftShort() throws Exception {
        Path file = dir.resolve("payloads/01SHORT.json");
        Files.createDirectories(file.getParent());
        Files.write(file, new byte[] {'{'});
        PayloadFiles.write(file, body);
        assertThat(Files.readAllBytes(file)).isEqualTo(body);
    }

    @Test
    void jobsOfOneDeliveryStartingTogetherEachSeeTheWholeBody() throws Exception {
        Path file = dir.resolve("payloads/01SAME.json");
        byte[] big = new byte[4 * 1024 * 1024];
        java.util.Arrays.fill(big, (byte) 'x');
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<byte[]>> seen = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                seen.add(pool.submit(() -> Files.readAllBytes(PayloadFiles.write(file, big))));
            }
            for (Future<byte[]> f : seen) {
                assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(big);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void makesTheFolderAgainWhenItWasRemovedMeanwhile() throws Exception {
        Path file = dir.resolve("again/01ONE.json");
        PayloadFiles.write(file, body);
        Files.delete(file);
        Files.delete(file.getParent());
        Path second = dir.resolve("again/01TWO.json");
        PayloadFiles.write(second, body);
        assertThat(Files.readAllBytes(second)).isEqualTo(body);
    }
}
