package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Locale;
import java.util.UUID;
import org.buildhook.runner.RunnerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code currentSchema} in {@code store.url} that names no schema of the database (a typo, or a
 * schema not created yet) stops the start with what is missing and what to do, not PostgreSQL's
 * "no schema has been selected to create in / Position: 28".
 */
class PostgresMissingSchemaTest {

    @TempDir
    Path dir;

    @Test
    void aCurrentSchemaThatDoesNotExistIsNamedWithWhatToDo() {
        String existing = TestStores.postgresUrl();
        String missing = "t_missing_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
                .toLowerCase(Locale.ROOT);
        String url = existing.replaceAll("currentSchema=[^&]*", "currentSchema=" + missing);

        assertThatThrownBy(() -> Store.open(StoreConfig.of(url, dir)).close())
                .isInstanceOf(RunnerException.class)
                .satisfies(e -> assertThat(e.getMessage())
                        .contains("no schema to create its tables in")
                        .contains(missing)
                        .contains("CREATE SCHEMA")
                        .contains("currentSchema in store.url")
                        .doesNotContain("Position:"));
    }
}
