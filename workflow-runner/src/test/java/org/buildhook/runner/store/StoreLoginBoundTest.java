package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The bound on each login to a PostgreSQL store ({@link Store#loginBound}), up to which the start waits for each pool's
 * first connection: the URL's {@code loginTimeout} as pgjdbc reads it, else {@code store.connect-timeout} (pglogin28).
 */
class StoreLoginBoundTest {

    private static StoreConfig config(String url) {
        return StoreConfig.of(url, Path.of("/tmp/unused")).withConnectTimeout(Duration.ofSeconds(2));
    }

    @Test
    void theUrlsLoginTimeoutInSecondsWithFractionsWinsOverTheKey() {
        assertThat(Store.loginBound(config("jdbc:postgresql://db:5432/b?user=u&loginTimeout=30")))
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(Store.loginBound(config("jdbc:postgresql://db/b?loginTimeout=1.5&user=u")))
                .isEqualTo(Duration.ofMillis(1500));
        assertThat(Store.urlBoundsLogins(config("jdbc:postgresql://db/b?loginTimeout=1.5"))).isTrue();
    }

    @Test
    void withoutOneInTheUrlTheKeyBoundsEachLogin() {
        StoreConfig config = config("jdbc:postgresql://db:5432/b?user=u&connectTimeout=60");
        assertThat(Store.loginBound(config)).isEqualTo(Duration.ofSeconds(2));
        assertThat(Store.urlBoundsLogins(config)).isFalse();
    }

    @Test
    void zeroInTheUrlIsNoBound() {
        assertThat(Store.loginBound(config("jdbc:postgresql://db/b?loginTimeout=0"))).isZero();
    }
}
