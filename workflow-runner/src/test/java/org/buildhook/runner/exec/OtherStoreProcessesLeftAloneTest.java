package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * tryout33 F3: two stores that share a history (a restored backup beside its original, on one host) run attempts
 * with the same {@code BUILDHOOK_ATTEMPT}; each one's end-of-attempt cleanup and sweep killed the other's processes.
 * A process carrying another store's {@code BUILDHOOK_STORE} is never found as an attempt's leftover, neither by its
 * marker nor as a member of the attempt's recorded session (the copy records the original's first process); one
 * carrying this store's identity, or none (started before the variable existed), is. Real processes, real
 * {@code /proc}.
 */
class OtherStoreProcessesLeftAloneTest {

    private final String before = AttemptMarker.servedStore();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void end() {
        started.forEach(Process::destroyForcibly);
        AttemptMarker.serveStore(before);
    }

    /** {@code sleep} in a session of its own (setsid execs in place: the same pid), with {@code env} only. */
    private Process sleeper(Map<String, String> env) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "sleep", "300");
        builder.environment().clear();
        builder.environment().putAll(env);
        Process p = builder.start();
        started.add(p);
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1)).until(() -> {
            ProcStat stat = ProcStat.of(p.pid());
            return stat != null && stat.session() == p.pid() && "sleep".equals(ProcStat.name(p.pid()));
        });
        return p;
    }

    @Test
    void aSweepLeavesAloneTheProcessesOfAnotherStoreWithTheSameAttempt() throws Exception {
        String job = "restore33-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of(job, 2);
        AttemptMarker.serveStore("copy/ino:1:2");
        Process original = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "original/ino:1:1"));
        Process own = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "copy/ino:1:2"));
        Process older = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value()));

        // The copy recorded the original's first process as the attempt's (its session is swept as the attempt's).
        ProcessIdentity recorded = new ProcessIdentity(original.pid(), original.pid(), ProcStat.startTime(original.pid()));
        assertThat(Leftovers.find(marker, recorded)).containsExactlyInAnyOrder(own.pid(), older.pid());
        List<String> killed = Leftovers.kill(marker, recorded, 0);

        assertThat(killed).containsExactlyInAnyOrder(own.pid() + " sleep", older.pid() + " sleep");
        assertThat(original.isAlive()).isTrue();
        assertThat(marker.isCarriedBy(original.pid())).isFalse();
        assertThat(AttemptMarker.ofAnotherStore(original.pid())).isTrue();
        assertThat(AttemptMarker.storeOf(original.pid())).isEqualTo("original/ino:1:1");
    }

    @Test
    void withoutAStoreSetEveryProcessOfTheAttemptIsFoundAsBefore() throws Exception {
        String job = "restore33-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of(job, 1);
        AttemptMarker.serveStore(null);
        Process other = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "original/ino:1:1"));
        assertThat(Leftovers.find(marker, null)).containsExactly(other.pid());
    }
    /**
     * loose34: a command that sets another value of {@code BUILDHOOK_STORE} for its children (with or without the
     * attempt's marker) took them out of the sweep of its own session when its node died: only the session's leader,
     * the recorded process this store's server started, says whose the session is. Leader alive, then gone.
     */
    @Test
    void childrenOfTheAttemptsSessionAreTakenWhateverStoreTheySay() throws Exception {
        String job = "loose34-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of(job, 1);
        AttemptMarker.serveStore("mine/ino:1:3");
        ProcessBuilder builder = new ProcessBuilder(LauncherConfig.SETSID, "sh", "-c",
                "BUILDHOOK_STORE=elsewhere sleep 300 & env -u " + AttemptMarker.VARIABLE
                        + " BUILDHOOK_STORE=elsewhere sleep 301 & read x");
        builder.environment().clear();
        builder.environment().putAll(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "mine/ino:1:3", "PATH", System.getenv("PATH")));
        Process leader = builder.start();
        started.add(leader);
        List<Long> children = new ArrayList<>();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1)).until(() -> {
            children.clear();
            for (ProcStat stat : ProcStat.all()) {
                if (stat.session() == leader.pid() && stat.pid() != leader.pid() && !stat.gone()
                        && "sleep".equals(ProcStat.name(stat.pid()))) {
                    children.add(stat.pid());
                }
            }
            return children.size() == 2;
        });
        try {
            ProcessIdentity recorded = new ProcessIdentity(leader.pid(), leader.pid(),
                    ProcStat.startTime(leader.pid()));
            assertThat(Leftovers.find(marker, recorded)).containsExactlyInAnyOrder(leader.pid(), children.get(0),
                    children.get(1));

            leader.getOutputStream().close(); // its read ends: the leader is gone, its children stay in its session
            assertThat(leader.waitFor(1, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
            assertThat(Leftovers.find(marker, recorded)).containsExactlyInAnyOrderElementsOf(children);
            assertThat(Leftovers.kill(marker, recorded, 0)).hasSize(2);
            assertThat(children).allMatch(ProcessTree::isGone);
        } finally {
            children.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
        }
    }

    /** {@code <pid>:<start ticks>/<this PID namespace>} of {@code process}: a BUILDHOOK_SERVER naming it. */
    private static String serverValue(ProcessIdentity process) {
        return process.pid() + ":" + process.startTicks() + "/"
                + NodeIdentity.pidNamespace(NodeIdentity.current().bootId());
    }

    /** A server that ran and is gone: a process started and waited for, its identity read while it ran. */
    private ProcessIdentity goneServer() throws Exception {
        Process server = new ProcessBuilder("sleep", "300").start();
        ProcessIdentity identity = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofMinutes(1))
                .until(() -> ProcessIdentity.of(server.pid()), i -> i != null && i.startTicks() >= 0);
        server.destroyForcibly().waitFor();
        assertThat(identity.isAlive()).isFalse();
        return identity;
    }

    /**
     * tryout58 F1: a backup restored (or a data folder made again) after its server was killed -9: the first run's
     * processes carry the attempt's marker with another identity of the same installation, and name a server that is
     * gone. Before, they were left alone as "another buildhook serves a copy", and the job ran again beside them; now
     * they are this attempt's leftovers, found (by the marker and as the recorded session) and killed.
     */
    @Test
    void theProcessesOfACopyWhoseServerIsGoneAreTheAttemptsLeftovers() throws Exception {
        String job = "restore58-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of(job, 1);
        AttemptMarker.serveStore("inst58/ino:1:2");
        String gone = serverValue(goneServer());
        Process first = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "inst58/ino:1:1", AttemptMarker.SERVER_VARIABLE, gone));
        Process escaped = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "inst58/ino:1:1", AttemptMarker.SERVER_VARIABLE, gone));
        ProcessIdentity recorded = new ProcessIdentity(first.pid(), first.pid(), ProcStat.startTime(first.pid()));

        assertThat(Leftovers.held(marker, recorded)).isEmpty();
        assertThat(Leftovers.find(marker, recorded)).containsExactlyInAnyOrder(first.pid(), escaped.pid());
        assertThat(Leftovers.kill(marker, recorded, 0)).containsExactlyInAnyOrder(first.pid() + " sleep",
                escaped.pid() + " sleep");
        assertThat(first.waitFor(1, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
        assertThat(escaped.waitFor(1, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
    }

    /**
     * tryout58 F1, tryout33 F3 kept: the same processes whose server still runs (a real {@code sleep} stands for it),
     * that name no server (started by an older buildhook), that name one of another PID namespace, or that carry
     * another installation's identity are left alone, and {@link Leftovers#held} names them, with what is known of
     * their server, for the job to wait.
     */
    @Test
    void theProcessesOfACopyWhoseServerRunsOrIsUnknownAreLeftAloneAndHeld() throws Exception {
        String job = "restore58-" + UUID.randomUUID();
        AttemptMarker marker = AttemptMarker.of(job, 1);
        AttemptMarker.serveStore("inst58/ino:1:2");
        Process server = sleeper(Map.of());
        String live = serverValue(ProcessIdentity.of(server.pid()));
        Process ofALiveServer = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "inst58/ino:1:1", AttemptMarker.SERVER_VARIABLE, live));
        Process unnamed = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "inst58/ino:1:1"));
        ProcessIdentity gone = goneServer();
        Process elsewhere = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "inst58/ino:1:1", AttemptMarker.SERVER_VARIABLE,
                gone.pid() + ":" + gone.startTicks() + "/pid:[1]"));
        Process otherInstallation = sleeper(Map.of(AttemptMarker.VARIABLE, marker.value(),
                AttemptMarker.STORE_VARIABLE, "other58/ino:1:1", AttemptMarker.SERVER_VARIABLE, serverValue(gone)));

        assertThat(Leftovers.find(marker, null)).isEmpty();
        List<Leftovers.Held> held = Leftovers.held(marker, null);
        assertThat(held).extracting(Leftovers.Held::pid).containsExactlyInAnyOrder(ofALiveServer.pid(), unnamed.pid(),
                elsewhere.pid(), otherInstallation.pid());
        assertThat(held).filteredOn(h -> h.pid() == ofALiveServer.pid()).singleElement().satisfies(h -> {
            assertThat(h.serverPid()).isEqualTo(server.pid());
            assertThat(h.serverSays()).isEqualTo("its server (pid " + server.pid() + ") still runs");
            assertThat(h.store()).isEqualTo("inst58/ino:1:1");
        });
        assertThat(held).filteredOn(h -> h.pid() == unnamed.pid()).singleElement()
                .satisfies(h -> assertThat(h.serverSays()).contains("its server is not named"));
        assertThat(held).filteredOn(h -> h.pid() == elsewhere.pid()).singleElement()
                .satisfies(h -> assertThat(h.serverSays()).contains("another PID namespace"));
        assertThat(Leftovers.kill(marker, null, 0)).isEmpty();
        assertThat(List.of(ofALiveServer, unnamed, elsewhere, otherInstallation)).allMatch(Process::isAlive);

        // The recorded session led by a process of a live server's copy is that server's whole session (tryout33 F3).
        ProcessIdentity recorded = new ProcessIdentity(ofALiveServer.pid(), ofALiveServer.pid(),
                ProcStat.startTime(ofALiveServer.pid()));
        assertThat(Leftovers.find(marker, recorded)).isEmpty();
        server.destroyForcibly().waitFor();
        // Its server gone, the same process is the attempt's leftover.
        assertThat(Leftovers.find(marker, recorded)).containsExactly(ofALiveServer.pid());
    }
}
