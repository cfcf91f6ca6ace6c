package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
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

    /**
     * review14 F4: a commit reported while a full-disk failure is being recorded (here exactly between the
     * failure's read of the state and its write, through the seam) does not clear it: before, the failure
     * and "for want of room" were two volatile writes, the commit between them saw room, cleared the
     * failure, and {@code /healthz} said 200 on a full disk until the next refused write.
     */
    @Test
    void aCommitReportedWhileAFullDiskIsRecordedDoesNotClearIt() {
        WriteHealth racing = interleaved(WriteHealth::succeeded);

        racing.failed("[SQLITE_FULL] database or disk is full", true);

        assertFullDiskKept(racing);
    }

    /** The other order of the same race: the full disk recorded while a commit is being reported. */
    @Test
    void aFullDiskRecordedWhileACommitIsReportedIsNotClearedByIt() {
        WriteHealth racing = interleaved(h -> h.failed("[SQLITE_FULL] database or disk is full", true));

        racing.succeeded();

        assertFullDiskKept(racing);
    }

    /** A WriteHealth that runs {@code other} once, midway through its first change of state. */
    private static WriteHealth interleaved(java.util.function.Consumer<WriteHealth> other) {
        AtomicReference<WriteHealth> self = new AtomicReference<>();
        AtomicBoolean once = new AtomicBoolean();
        WriteHealth racing = new WriteHealth(() -> {
            if (once.compareAndSet(false, true)) {
                other.accept(self.get());
            }
        });
        self.set(racing);
        return racing;
    }

    private void assertFullDiskKept(WriteHealth racing) {
        assertThat(racing.lastFailure()).isEqualTo("[SQLITE_FULL] database or disk is full");
        // Believed while fresh; probed, only a probe that needs room may say otherwise (this one has no news).
        assertThat(racing.writable(needRoom -> {
            probesNeedingRoom.add(needRoom);
            return false;
        })).isFalse();
        assertThat(probesNeedingRoom).doesNotContain(false);
    }

    private boolean probe(boolean needRoom) {
        probesNeedingRoom.add(needRoom);
        return true;
    }
}
