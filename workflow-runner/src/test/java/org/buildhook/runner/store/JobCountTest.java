package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Store#countJobs}: what the queue-depth gauge reads on every scrape. */
class JobCountTest {

    @TempDir
    Path dir;

    @Test
    void countsTheJobsInOneStateOnly() {
        try (Store store = Store.open(TestStores.sqlite(dir))) {
            assertThat(store.countJobs(JobState.QUEUED)).isZero();

            AcceptResult r = store.accept(Plans.delivery(Plans.fixture()),
                    List.of(Plans.job("a", List.of("/bin/true")), Plans.job("b", List.of("/bin/true"))));
            store.cancel(r.jobIds().get(0));

            assertThat(store.countJobs(JobState.QUEUED) + store.countJobs(JobState.CANCELLED)).isEqualTo(2);
            assertThat(store.countJobs(JobState.SUCCEEDED)).isZero();
        }
    }
}
