package org.buildhook.distribution;

import java.net.URI;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page of the built WAR in Jetty ({@link WarInJetty}, its {@code web.xml}'s error page in
 * place) on PostgreSQL through a {@code TcpProxy}, cut and opened again: the same answers as the
 * standalone server's ({@link StatusPageWithStoreDownTest#outageAnswersSaySo}), not the error page's
 * "internal error" (tryout21 F7). Needs {@code BUILDHOOK_TEST_PG_URL}; skipped without it, except on CI.
 */
class WarStatusPageWithStoreDownIT {

    private static final String TOKEN = "war-outage-page-admin-token-0123456789";

    @TempDir
    Path dir;
    private ProxiedSchema pg;
    private WarInJetty jetty;

    @BeforeEach
    void schema() throws Exception {
        pg = ProxiedSchema.create("war_outage_");
    }

    @AfterEach
    void stop() throws Exception {
        if (jetty != null) {
            jetty.close();
        }
        pg.close();
    }

    @Test
    void theWarsStatusPageSaysTheStoreDoesNotAnswer() throws Exception {
        Path config = StatusPageWithStoreDownTest.config(dir, pg.storeUrlGenerousLogins, TOKEN);
        jetty = new WarInJetty(dir, config);
        StatusPageWithStoreDownTest.outageAnswersSaySo(URI.create(jetty.base), TOKEN, pg.proxy);
    }
}
