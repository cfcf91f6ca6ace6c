package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** switch41 F2: what a store's mark records, never a password, and how an older (empty) mark is filled in. */
class StoreMarkTest {

    @TempDir
    Path dir;

    @Test
    void theUrlARecordKeepsNoPasswordNorAnyParameterThatMayBeOne() {
        assertThat(StoreMark.url("jdbc:postgresql://db:5432/buildhook?user=bh&password=s3cret&currentSchema=ci"))
                .isEqualTo("jdbc:postgresql://db:5432/buildhook?user=bh&currentSchema=ci");
        assertThat(StoreMark.url("jdbc:postgresql://db/bh?password=s3cret&sslpassword=k3y&sslmode=require"))
                .isEqualTo("jdbc:postgresql://db/bh?sslmode=require");
        assertThat(StoreMark.url("jdbc:postgresql://db/bh?PASSWORD=s3cret")).isEqualTo("jdbc:postgresql://db/bh");
        assertThat(StoreMark.url("jdbc:postgresql://bh:Pa5/5w?rd@db:5432/buildhook?user=bh"))
                .isEqualTo("jdbc:postgresql://db:5432/buildhook?user=bh");
        assertThat(StoreMark.url("jdbc:postgresql://bh:pa/ss@db")).doesNotContain("pa").doesNotContain("ss@");
        assertThat(StoreMark.url("jdbc:sqlite:/var/lib/buildhook/buildhook.db?journal_mode=WAL"))
                .isEqualTo("jdbc:sqlite:/var/lib/buildhook/buildhook.db");
    }

    @Test
    void aMarkIsWrittenWholeAnOlderEmptyOneIsFilledInAndOneWithContentIsKept() throws Exception {
        Path mark = dir.resolve(".buildhook-store-abc");
        String content = StoreMark.content("jdbc:postgresql://db/bh?user=bh&password=s3cret");
        StoreMark.write(mark, content);
        assertThat(Files.readString(mark)).isEqualTo(content).doesNotContain("s3cret");
        assertThat(StoreMark.recorded(mark)).contains("jdbc:postgresql://db/bh?user=bh");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(mark))).isEqualTo("rw-r-----");

        StoreMark.write(mark, StoreMark.content("jdbc:postgresql://other/bh"));
        assertThat(Files.readString(mark)).isEqualTo(content);

        Files.write(mark, new byte[0]); // as a build older than 2026-12-05 made it
        assertThat(StoreMark.recorded(mark)).isEmpty();
        StoreMark.write(mark, content);
        assertThat(Files.readString(mark)).isEqualTo(content);
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly(".buildhook-store-abc");
        }
    }
}
