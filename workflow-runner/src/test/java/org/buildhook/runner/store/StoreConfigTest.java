package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class StoreConfigTest {

    private static String described(String url) {
        return StoreConfig.of(url, Path.of("/tmp/data")).describe();
    }

    @Test
    void theDescriptionOfAUrlShowsNeitherItsParametersNorAUserAndPasswordBeforeTheHost() {
        assertThat(described("jdbc:postgresql://buildhook:Pa55word@db:5432/buildhook?currentSchema=ci"))
                .isEqualTo("jdbc:postgresql://(credentials hidden)@db:5432/buildhook?(parameters hidden)")
                .doesNotContain("Pa55word");
        assertThat(described("jdbc:postgresql://u:p@ss@db/buildhook")).isEqualTo(
                "jdbc:postgresql://(credentials hidden)@db/buildhook");
        assertThat(described("jdbc:postgresql://db:5432/buildhook?user=u&password=p"))
                .isEqualTo("jdbc:postgresql://db:5432/buildhook?(parameters hidden)");
        assertThat(described("jdbc:postgresql://db:5432/buildhook")).isEqualTo("jdbc:postgresql://db:5432/buildhook");
        assertThat(described("jdbc:sqlite:/var/lib/buildhook/a@b.db")).isEqualTo("jdbc:sqlite:/var/lib/buildhook/a@b.db");
    }
}
