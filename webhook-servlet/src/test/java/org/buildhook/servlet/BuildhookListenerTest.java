package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import jakarta.servlet.ServletContextEvent;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** When a WAR that finds no configuration file may start on the embedded defaults; a WAR that fails to start. */
class BuildhookListenerTest {

    @TempDir
    Path dir;

    @Test
    void onlyWhenTheOperatorAskedForTheDefaults() {
        assertThat(BuildhookListener.defaultsAllowed(null, null, null)).isFalse();
        assertThat(BuildhookListener.defaultsAllowed("false", "", "no")).isFalse();
        assertThat(BuildhookListener.defaultsAllowed("true", null, null)).isTrue();
        assertThat(BuildhookListener.defaultsAllowed(null, " TRUE ", null)).isTrue();
        assertThat(BuildhookListener.defaultsAllowed(null, null, "true")).isTrue();
    }

    @Test
    void theRefusalSaysWhatToSetAndHowToOptIn() {
        assertThat(BuildhookListener.NO_CONFIGURATION).contains("buildhook.config", "BUILDHOOK_CONFIG", "setenv.sh",
                "buildhook.defaults=true");
    }

    /**
     * A WAR whose start fails once its configuration was read (PostgreSQL does not answer) writes no
     * secret file and tells of none: the next start generates them and says so (tryout13 F6).
     */
    @Test
    void aWarThatFailsToStartWritesNoSecretAndAnnouncesNone() throws Exception {
        int closed;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nadmin: {token: generate}\n"
                + "store: {url: 'jdbc:postgresql://127.0.0.1:" + closed + "/buildhook?user=u&password=p'}\n");
        ServletContextHandler context = new ServletContextHandler("/buildhook");
        context.setInitParameter(BuildhookListener.CONFIG_PARAM, config.toString());
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        ch.qos.logback.classic.Logger logger =
                (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(BuildhookListener.class);
        log.start();
        logger.addAppender(log);
        try {
            assertThatThrownBy(() -> new BuildhookListener().contextInitialized(
                    new ServletContextEvent(context.getServletContext())))
                    .hasMessageStartingWith(BuildhookListener.CANNOT_START);
        } finally {
            logger.detachAppender(log);
        }

        assertThat(log.list).extracting(ILoggingEvent::getFormattedMessage)
                .anySatisfy(m -> assertThat(m).contains("cannot connect to the PostgreSQL store"))
                .noneSatisfy(m -> assertThat(m).contains("generated a new secret"));
        assertThat(dir.resolve("data/webhook-secret")).doesNotExist();
        assertThat(dir.resolve("data/admin-token")).doesNotExist();
    }
}
