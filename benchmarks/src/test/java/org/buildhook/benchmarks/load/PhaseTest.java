package org.buildhook.benchmarks.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A phase against a receiver on one selector thread over loopback, which records, in order, each connection it
 * accepts and each body it is sent. In each round it accepts every waiting connection before it reads: a connection
 * made before a body was sent is so recorded before that body.
 */
class PhaseTest {

    private static final Pattern BUILD_ID = Pattern.compile("\"build_id\": (\\d+)");
    private static final byte[] FIXTURE = "{\"build_id\": 1, \"project\": \"p\"}".getBytes(StandardCharsets.UTF_8);
    private static final byte[] ANSWER = "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final List<String> events = new CopyOnWriteArrayList<>();
    private ServerSocketChannel listener;
    private Thread server;
    private volatile boolean stopping;
    private ExecutorService senders;

    @BeforeEach
    void start() throws IOException {
        listener = ServerSocketChannel.open();
        listener.bind(new InetSocketAddress("127.0.0.1", 0));
        listener.configureBlocking(false);
        server = new Thread(this::serve, "phase-test-receiver");
        server.setDaemon(true);
        server.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (senders != null) {
            senders.shutdownNow();
        }
        stopping = true;
        server.join(5_000);
        listener.close();
    }

    @Test
    void everySenderIsConnectedAndReadyBeforeThePhasesClockStartsAndItsFirstBodyIsSent() throws Exception {
        SignedBodies bodies = new SignedBodies(FIXTURE, "s3cret".getBytes(StandardCharsets.UTF_8), HeaderStyle.JOBSERV);
        bodies.body(0); // the signing warm, so that the first body is sent on time without the change too
        senders = Executors.newFixedThreadPool(2);

        // Paced at 1 per second: the second sender's first body is due a second after the first's.
        Phase.Result result = new Phase(senders, 2, Clock.systemUTC()).run(url(), bodies, 100, 2, 1.0, 0);

        assertThat(result.accepted()).isEqualTo(2);
        // Before the change a sender connected at its first send: connected, body 100, a second later connected, body 101.
        assertThat(events).containsExactly("connected", "connected", "body 100", "body 101");
        assertThat(result.sentMicros()[0]).isGreaterThanOrEqualTo(result.startMicros());
    }

    @Test
    void aReceiverThatIsNotThereIsCountedAsAnErrorOfEachSend() throws Exception {
        URI url = url();
        stopping = true;
        server.join(5_000);
        listener.close();
        SignedBodies bodies = new SignedBodies(FIXTURE, "s3cret".getBytes(StandardCharsets.UTF_8), HeaderStyle.JOBSERV);
        senders = Executors.newFixedThreadPool(2);

        Phase.Result result = new Phase(senders, 2, Clock.systemUTC()).run(url, bodies, 100, 4, 0, 0);

        assertThat(result.accepted()).isZero();
        assertThat(result.errors()).containsEntry("ConnectException", 4L);
    }

    private URI url() throws IOException {
        return URI.create("http://127.0.0.1:" + ((InetSocketAddress) listener.getLocalAddress()).getPort() + "/webhook");
    }

    private void serve() {
        try (Selector selector = Selector.open()) {
            listener.register(selector, SelectionKey.OP_ACCEPT);
            while (!stopping) {
                selector.select(50);
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isValid() && key.isAcceptable()) {
                        for (SocketChannel c = listener.accept(); c != null; c = listener.accept()) {
                            events.add("connected");
                            c.configureBlocking(false);
                            c.register(selector, SelectionKey.OP_READ, new ByteArrayOutputStream());
                        }
                    }
                }
                for (SelectionKey key : selector.selectedKeys()) {
                    if (key.isValid() && key.isReadable()) {
                        read(key);
                    }
                }
                selector.selectedKeys().clear();
            }
            for (SelectionKey key : selector.keys()) {
                key.channel().close();
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads what came, records each whole request's body and answers it {@code 202}; closes at the end of the stream. */
    private void read(SelectionKey key) throws IOException {
        SocketChannel channel = (SocketChannel) key.channel();
        ByteArrayOutputStream received = (ByteArrayOutputStream) key.attachment();
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        int n = channel.read(buffer);
        if (n < 0) {
            key.cancel();
            channel.close();
            return;
        }
        received.write(buffer.array(), 0, n);
        String text = received.toString(StandardCharsets.ISO_8859_1);
        int end = text.indexOf("\r\n\r\n");
        while (end >= 0) {
            int length = 0;
            for (String line : text.substring(0, end).split("\r\n")) {
                if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring("content-length:".length()).trim());
                }
            }
            if (text.length() < end + 4 + length) {
                return; // the body's rest is still on its way
            }
            Matcher id = BUILD_ID.matcher(text.substring(end + 4, end + 4 + length));
            events.add("body " + (id.find() ? id.group(1) : "?"));
            channel.write(ByteBuffer.wrap(ANSWER));
            text = text.substring(end + 4 + length);
            received.reset();
            received.write(text.getBytes(StandardCharsets.ISO_8859_1));
            end = text.indexOf("\r\n\r\n");
        }
    }
}
