package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a refused {@code serve} says of a PostgreSQL store at {@code store.url} that does not answer: buildhook's
 * sentence only, not HikariCP's internals after it (final18 F6: "…: buildhook-store - Connection is not
 * available, request timed out after 2005ms (total=0, active=0, idle=0, waiting=0)").
 */
class StoreRefusalWordsTest {

    @TempDir
    Path dir;

    /** The servers work in this test's own folder: {@link ServeProcesses#close} ends what works there. */
    private ServeProcesses processes;
    private final List<Socket> held = new CopyOnWriteArrayList<>();
    private ServerSocket silent;

    @org.junit.jupiter.api.BeforeEach
    void processes() {
        processes = new ServeProcesses(dir);
    }

    @AfterEach
    void close() throws IOException, InterruptedException {
        processes.close();
        if (silent != null) {
            silent.close();
        }
        for (Socket s : held) {
            s.close();
        }
    }

    /** A listener that accepts connections and never answers on them. */
    private int silentListener() throws IOException {
        return listener(false);
    }

    /**
     * A listener that accepts connections and, with {@code http}, answers what it reads as a web server
     * answers a request it does not understand; otherwise never answers.
     */
    private int listener(boolean http) throws IOException {
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accepting = new Thread(() -> {
            while (!silent.isClosed()) {
                try {
                    Socket s = silent.accept();
                    held.add(s);
                    if (http) {
                        s.getInputStream().read(new byte[64]);
                        s.getOutputStream().write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                .getBytes(StandardCharsets.US_ASCII));
                        s.close();
                    }
                } catch (IOException closed) {
                    if (silent.isClosed()) {
                        return;
                    }
                }
            }
        }, "silent-listener");
        accepting.setDaemon(true);
        accepting.start();
        return silent.getLocalPort();
    }

    @Test
    void aStoreThatNeverAnswersIsRefusedInBuildhooksWordsOnly() throws Exception {
        int port = silentListener();
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n"
                + "store: {url: 'jdbc:postgresql://127.0.0.1:" + port + "/buildhook?user=u&password=the-password',"
                + " connect-timeout: 1s}\n");

        Process serve = processes.serve(config, dir.resolve("serve.out"), "--host", "127.0.0.1", "--port", "0");
        assertThat(serve.waitFor(2, TimeUnit.MINUTES)).as("the refused start ends by itself").isTrue();
        String output = Files.readString(dir.resolve("serve.out"), StandardCharsets.UTF_8);

        assertThat(serve.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(output.lines().filter(l -> l.startsWith("buildhook: cannot start: "))).as(output).singleElement()
                .asString().contains("no connection was made within store.connect-timeout (1s), and none was refused")
                .contains("check the host and port in store.url (what listens there may not be PostgreSQL: a web"
                        + " server never answers it)")
                .endsWith("and that PostgreSQL runs and accepts connections there")
                .doesNotContain("Tomcat") // a standalone serve (tryout19 F4)
                .doesNotContain("Connection is not available").doesNotContain("the-password");
    }

    /**
     * final18 F8: an address where something other than PostgreSQL answers (a web server here) gave only the
     * driver's "An error occurred while setting up the SSL connection"; serve and check now add that what
     * answers may not be PostgreSQL.
     */
    @Test
    void aWebServerAtTheStoresAddressIsSaidToBePerhapsNotPostgres() throws Exception {
        int port = listener(true);
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n"
                + "store: {url: 'jdbc:postgresql://127.0.0.1:" + port + "/buildhook?user=u&password=the-password',"
                + " connect-timeout: 10s}\n"); // not waited out: the start's first connection ends at the refusal

        Process serve = processes.serve(config, dir.resolve("serve.out"), "--host", "127.0.0.1", "--port", "0");
        assertThat(serve.waitFor(2, TimeUnit.MINUTES)).as("the refused start ends by itself").isTrue();
        String output = Files.readString(dir.resolve("serve.out"), StandardCharsets.UTF_8);
        assertThat(serve.exitValue()).as(output).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(output.lines().filter(l -> l.startsWith("buildhook: cannot start: "))).as(output).singleElement()
                .asString().contains("An error occurred while setting up the SSL connection (what answers at that"
                        + " address may not be PostgreSQL")
                .as("the driver's sentence once, not again at the end").endsWith("store.url, store.user and store.password")
                .doesNotContain("the-password");

        java.io.StringWriter out = new java.io.StringWriter();
        picocli.CommandLine check = BuildhookCommand.commandLine();
        check.setOut(new java.io.PrintWriter(out, true));
        check.setErr(new java.io.PrintWriter(new java.io.StringWriter(), true));
        assertThat(check.execute("check", "--config", config.toString())).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("warning: cannot connect to the PostgreSQL store")
                .contains("(what answers at that address may not be PostgreSQL");
    }
}
