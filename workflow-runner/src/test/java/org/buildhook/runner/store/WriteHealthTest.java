package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** What {@link WriteHealth} believes after a write was refused for want of room (tryout13 F1). */
class WriteHealthTest {

    final WriteHealth health = new WriteHealth();
    final List<Boolean> probesNeedingRoom = new CopyOnWriteArrayList<>();

    @Test
    void aSmallCommitAfterAFullDiskDoesNotSayWritesWorkOnlyAProbeThatNeedsRoomDoes() {
        health.failed("[SQLITE_FULL] database or disk is full", true);
        health.succeeded(); // a one-row update that fitted where the refused delivery had claimed room

        await().atMost(Duration.ofSeconds(30)).until(() -> health.writable(this::probe));
        assertThat(probesNeedingRoom).isNotEmpty().containsOnly(true);
        assertThat(health.lastFailure()).isNull();
    }

    @Test
    void onceWritesWorkTheProbeIsSmallAgainAndOtherFailuresAreUndoneByAnyCommit() {
        health.failed("[SQLITE_FULL] database or disk is full", true);
        await().atMost(Duration.ofSeconds(30)).until(() -> health.writable(this::probe));

        health.failed("[SQLITE_BUSY] the database file is locked", false);
        health.succeeded();
        assertThat(health.lastFailure()).isNull();

        probesNeedingRoom.clear();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            assertThat(health.writable(this::probe)).isTrue();
            return !probesNeedingRoom.isEmpty();
        });
        assertThat(probesNeedingRoom).containsOnly(false);
    }

    @Test
    void aProbeWithNoNewsLeavesAFullDiskRefused() {
        health.failed("could not extend file: No space left on device", true);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            health.writable(needRoom -> {
                probesNeedingRoom.add(needRoom);
                return false; // another node's probe held the row
            });
            return !probesNeedingRoom.isEmpty();
        });
        assertThat(health.writable(needRoom -> false)).isFalse();
        assertThat(health.lastFailure()).contains("No space left");
    }

    private boolean probe(boolean needRoom) {
        probesNeedingRoom.add(needRoom);
        return true;
    }
}
