package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The body reader against a container that says it is ready while it holds only framing: Tomcat
 * 10.1 does so at a chunk's boundary of a chunked body, then answers 0 from {@code read(byte[])} and
 * throws {@link BufferUnderflowException} from {@code read()} (its {@code InputBuffer.readByte}).
 * That moment cannot be brought about on purpose over a real connection (it depends on where the
 * container's socket reads end), so the container's input stream is the one stand-in here; the same
 * bodies over real Jetty and Tomcat are in {@code AbstractWebhookIT}.
 */
class BodyListenerTest {

    /** Before each gap the container has data; at a gap it says ready but has only framing. */
    private static final byte[] GAP = new byte[0];

    @Test
    void aChunkBoundaryWhereTheArrayIsFullIsWaitedForNotAFailure() throws IOException {
        byte[] body = bytes(16_384);
        Container container = new Container(Arrays.copyOfRange(body, 0, 8192), GAP, Arrays.copyOfRange(body, 8192, 16_384));
        Ended ended = container.read(1 << 20, -1);

        assertThat(ended.events).containsExactly("complete " + body.length);
        assertThat(ended.body).isEqualTo(body);
    }

    @Test
    void aBodyPastTheCapAfterABoundaryIsTooLarge() throws IOException {
        byte[] body = bytes(8193);
        Container container = new Container(Arrays.copyOfRange(body, 0, 8192), GAP, new byte[] {body[8192]});
        Ended ended = container.read(8192, -1);

        assertThat(ended.events).containsExactly("tooLarge 8193");
    }

    @Test
    void aBodyOfItsDeclaredLengthEndsWithoutGrowingTheArray() throws IOException {
        byte[] body = bytes(3000);
        Container container = new Container(Arrays.copyOfRange(body, 0, 1000), GAP, Arrays.copyOfRange(body, 1000, 3000));
        Ended ended = container.read(1 << 20, body.length);

        assertThat(ended.events).containsExactly("complete 3000");
        assertThat(ended.body).isEqualTo(body);
    }

    @Test
    void theContainersOwnTimeoutForTheNextBytesIsABodyNotCompleteInTimeNotABrokenOne() throws IOException {
        // Jetty's idle timeout reaches the listener as onError(TimeoutException), wrapped or not.
        assertThat(stalled(new java.util.concurrent.TimeoutException("Idle timeout expired: 30000/30000 ms")).events)
                .containsExactly("timedOut 10");
        assertThat(stalled(new IOException(new java.util.concurrent.TimeoutException("Idle timeout expired"))).events)
                .containsExactly("timedOut 10");
        assertThat(stalled(new java.net.SocketTimeoutException("Read timed out")).events).containsExactly("timedOut 10");
        // A connection that ended is not a timeout.
        assertThat(stalled(new java.io.EOFException("Early EOF")).events).containsExactly("broken 10 java.io.EOFException:"
                + " Early EOF");
    }

    /** Ten bytes of a longer declared body arrived, then the container reports {@code failure}. */
    private static Ended stalled(Throwable failure) throws IOException {
        Container container = new Container(bytes(10), GAP);
        AsyncContext async = mock(AsyncContext.class);
        ServletRequest request = mock(ServletRequest.class);
        when(async.getRequest()).thenReturn(request);
        when(request.getInputStream()).thenReturn(container);
        Ended ended = new Ended();
        BodyListener.start(async, 1 << 20, Duration.ofMinutes(1), ended, 100);
        container.listener.onDataAvailable();
        assertThat(ended.events).isEmpty();
        container.listener.onError(failure);
        return ended;
    }

    private static byte[] bytes(int length) {
        byte[] body = new byte[length];
        for (int i = 0; i < length; i++) {
            body[i] = (byte) ('a' + i % 26);
        }
        return body;
    }

    /** What the reader ended with. */
    private static final class Ended implements BodyListener.Ends {
        final List<String> events = new ArrayList<>();
        byte[] body;

        @Override
        public void complete(byte[] body) {
            this.body = body;
            events.add("complete " + body.length);
        }

        @Override
        public void tooLarge(long received) {
            events.add("tooLarge " + received);
        }

        @Override
        public void timedOut(long received, Duration deadline) {
            events.add("timedOut " + received);
        }

        @Override
        public void broken(long received, Throwable failure) {
            events.add("broken " + received + " " + failure);
        }
    }

    /** A container's input stream that hands out the given pieces, as Tomcat 10.1's does. */
    private static final class Container extends ServletInputStream {
        private final Deque<byte[]> pieces = new ArrayDeque<>();
        private byte[] piece = new byte[0];
        private int at;
        /** After a gap: not ready until the container sees more data and calls the listener again. */
        private boolean waiting;
        private ReadListener listener;

        Container(byte[]... pieces) {
            this.pieces.addAll(List.of(pieces));
        }

        Ended read(long maxBytes, long declared) throws IOException {
            AsyncContext async = mock(AsyncContext.class);
            ServletRequest request = mock(ServletRequest.class);
            when(async.getRequest()).thenReturn(request);
            when(request.getInputStream()).thenReturn(this);
            Ended ended = new Ended();
            BodyListener.start(async, maxBytes, Duration.ofMinutes(1), ended, declared);
            for (int call = 0; ended.events.isEmpty(); call++) {
                assertThat(call).as("calls of onDataAvailable without an end").isLessThan(100);
                waiting = false;
                try {
                    listener.onDataAvailable();
                } catch (IOException | RuntimeException e) {
                    // What the container does with a listener that throws.
                    listener.onError(e);
                }
                if (ended.events.isEmpty() && !waiting && isFinished()) {
                    listener.onAllDataRead();
                }
            }
            return ended;
        }

        private boolean atGap() {
            return at == piece.length && pieces.peekFirst() == GAP;
        }

        private void advance() {
            while (at == piece.length && !pieces.isEmpty() && pieces.peekFirst() != GAP) {
                piece = pieces.removeFirst();
                at = 0;
            }
        }

        @Override
        public boolean isFinished() {
            advance();
            return at == piece.length && pieces.isEmpty();
        }

        @Override
        public boolean isReady() {
            return !waiting;
        }

        @Override
        public void setReadListener(ReadListener readListener) {
            this.listener = readListener;
        }

        @Override
        public int read() {
            advance();
            if (atGap()) {
                throw new BufferUnderflowException();
            }
            return at < piece.length ? piece[at++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            advance();
            if (atGap()) {
                pieces.removeFirst();
                waiting = true;
                return 0;
            }
            if (at == piece.length) {
                return -1;
            }
            int n = Math.min(len, piece.length - at);
            System.arraycopy(piece, at, b, off, n);
            at += n;
            return n;
        }
    }
}
