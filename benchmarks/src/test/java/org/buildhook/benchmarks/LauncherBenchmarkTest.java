package org.buildhook.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.buildhook.runner.exec.JobLogs;
import org.junit.jupiter.api.Test;

/**
 * Two runs of the launcher benchmark on one machine never share a job id, so neither's leftover look
 * (which ends every process carrying the attempt's marker) can end the other's processes.
 */
class LauncherBenchmarkTest {

    @Test
    void twoRunsNeverShareAJobIdAndEveryIdIsOneTheLauncherTakes() {
        LauncherBenchmark one = new LauncherBenchmark();
        LauncherBenchmark other = new LauncherBenchmark();
        Set<String> ours = new HashSet<>();
        Set<String> theirs = new HashSet<>();
        for (int i = 0; i < 2048; i++) {
            ours.add(JobLogs.requireValidJobId(one.nextJobId()));
            theirs.add(JobLogs.requireValidJobId(other.nextJobId()));
        }
        assertThat(ours).hasSize(1024).doesNotContainAnyElementsOf(theirs);
    }
}
