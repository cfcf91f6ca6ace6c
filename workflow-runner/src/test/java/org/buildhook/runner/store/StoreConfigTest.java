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

    /** review11 F1: generated passwords often hold '/' (base64), and some '?', '=' or '@'. */
    @Test
    void aPasswordBeforeTheHostIsHiddenWhateverCharactersItHolds() {
        assertThat(described("jdbc:postgresql://buildhook:Pa5/5word@db:5432/buildhook"))
                .isEqualTo("jdbc:postgresql://(credentials hidden)@db:5432/buildhook");
        assertThat(described("jdbc:postgresql://buildhook:Pa5?5word@db:5432/buildhook?currentSchema=ci"))
                .isEqualTo("jdbc:postgresql://(credentials hidden)@db:5432/buildhook?(parameters hidden)");
        assertThat(described("jdbc:postgresql://buildhook:a?b=c/d@db/buildhook"))
                .isEqualTo("jdbc:postgresql://(credentials hidden)@db/buildhook");
        assertThat(described("jdbc:postgresql://buildhook:x=y@z/w@db/buildhook"))
                .isEqualTo("jdbc:postgresql://(credentials hidden)@db/buildhook");
        assertThat(StoreConfig.credentialsEnd("jdbc:postgresql://buildhook:Pa5/5word@db:5432/buildhook")).isPositive();
    }

    /**
     * review11 F7: with no database after the host, {@code user:pa/ss@host} reads like a host, a '/'
     * and a database named {@code ss@host}; it was described in full. Either way the '@' is taken
     * for the end of a password: an '@' in a database's name is far rarer than a '/' in a password.
     */
    @Test
    void aPasswordWithASlashBeforeAHostWithoutDatabaseIsHiddenToo() {
        assertThat(described("jdbc:postgresql://buildhook:pa/ss@db")).isEqualTo(
                "jdbc:postgresql://(credentials hidden)@db").doesNotContain("pa/ss");
        assertThat(described("jdbc:postgresql://buildhook:pa/ss@db:5432?ssl=true")).isEqualTo(
                "jdbc:postgresql://(credentials hidden)@db:5432?(parameters hidden)");
        assertThat(described("jdbc:postgresql://db/team@ci")).isEqualTo("jdbc:postgresql://(credentials hidden)@ci");
        assertThat(described("jdbc:postgresql://db/bh?user=admin@srv")).isEqualTo(
                "jdbc:postgresql://db/bh?(parameters hidden)");
        // review12 L4: a password with both '/' and '?' was cut at the '?', showing 'u:a/b'.
        assertThat(described("jdbc:postgresql://u:a/b?c@db")).isEqualTo("jdbc:postgresql://(credentials hidden)@db");
        assertThat(described("jdbc:postgresql://u:a/b?c@db/bh?ssl=true")).isEqualTo(
                "jdbc:postgresql://(credentials hidden)@db/bh?(parameters hidden)");
    }

    @Test
    void anAtSignInAParameterOrTheDatabaseNameIsNoPassword() {
        assertThat(StoreConfig.credentialsEnd("jdbc:postgresql://srv.example:5432/bh?user=admin@srv&password=p")).isNegative();
        assertThat(StoreConfig.credentialsEnd("jdbc:postgresql://srv.example:5432/bh?user=admin@srv")).isNegative();
        assertThat(StoreConfig.credentialsEnd("jdbc:postgresql://db/team@ci")).isNegative();
        assertThat(StoreConfig.credentialsEnd("jdbc:sqlite:/var/lib/buildhook/a@b.db")).isNegative();
        assertThat(described("jdbc:postgresql://srv.example:5432/bh?user=admin@srv&password=p"))
                .isEqualTo("jdbc:postgresql://srv.example:5432/bh?(parameters hidden)");
    }
}
