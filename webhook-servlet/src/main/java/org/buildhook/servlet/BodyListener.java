package org.buildhook.servlet;

import jakarta.servlet.AsyncContext;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a request body without holding a thread while the client is slow: the container calls
 * {@link #onDataAvailable()} when bytes have arrived, and the body is handed on once complete. A
 * body that is not complete within the deadline, or that passes the cap, ends the request (and its
 * connection) instead; exactly one of the three ends is taken.
 *
 * <p>A body whose {@code Content-Length} is over the cap (the caller decides up to how much) is read
 * and dropped, then answered as too large: a client that sends its whole body before it reads an
 * answer (JobServ's, Python's {@code urllib}) otherwise meets a closed connection ({@code Broken pipe},
 * {@code Connection reset}) instead of the 413, and sends again.
 */
final class BodyListener implements ReadListener, AsyncListener {

    private static final Logger LOG = LoggerFactory.getLogger(BodyListener.class);

    /** What happens at each end; each runs at most once, on a container thread, before the request completes. */
    interface Ends {
        /** The whole body arrived. */
        void complete(byte[] body) throws IOException;

        /** The body passed the cap ({@code received} bytes so far). */
        void tooLarge(long received) throws IOException;

        /**
         * The body was not complete in time: the deadline passed, or the container's own wait for the
         * client's next bytes ran out first; {@code after} is how long reading took (the deadline in the
         * first case).
         */
        void timedOut(long received, Duration after) throws IOException;

        /**
         * The body ended before it was complete (the client closed its side early, or the connection
         * broke): nothing was stored, so the answer, when the client can still read one, must not be
         * a success.
         */
        void broken(long received, Throwable failure) throws IOException;
    }

    /** The largest array the JVM can always allocate. */
    private static final int MAX_ARRAY = Integer.MAX_VALUE - 8;

    private final AsyncContext async;
    private final ServletInputStream in;
    private final long maxBytes;
    private final Duration deadline;
    private final Ends ends;
    /** {@link System#nanoTime()} when reading began. */
    private final long started = System.nanoTime();
    private final AtomicBoolean ended = new AtomicBoolean();
    /**
     * The body so far, in its first {@code received} bytes: an array of the declared length when the
     * request has a {@code Content-Length} (read into directly, handed on without a copy), grown as
     * needed otherwise.
     */
    private byte[] body;
    private int received;
    /** The byte read past a full array, to learn whether the body goes on. */
    private final byte[] next = new byte[1];
    /** Whether the body is over the cap by its declared length, and read only to be dropped. */
    private final boolean dropping;
    /** Bytes read and dropped so far (a dropped body may be longer than an array). */
    private long dropped;
    /** Where a dropped body is read into. */
    private byte[] scratch;

    private BodyListener(AsyncContext async, ServletInputStream in, long maxBytes, Duration deadline, Ends ends,
            int initialSize, boolean dropping) {
        this.dropping = dropping;
        this.async = async;
        this.in = in;
        this.maxBytes = maxBytes;
        this.deadline = deadline;
        this.ends = ends;
        this.body = new byte[initialSize];
    }

    /**
     * Starts reading the request's body asynchronously.
     *
     * @param async    the request's started async context; its timeout is set to {@code deadline}
     * @param maxBytes the largest body accepted
     * @param deadline how long the whole body may take to arrive, from now
     * @param declared the request's {@code Content-Length}, or -1; when over {@code maxBytes}, the body
     *                 is read and dropped, and {@link Ends#tooLarge} is taken once it was (or when the
     *                 deadline passes first)
     */
    static void start(AsyncContext async, long maxBytes, Duration deadline, Ends ends, long declared)
            throws IOException {
        async.setTimeout(deadline.toMillis());
        ServletInputStream in = async.getRequest().getInputStream();
        // The declared length is the array's (up to 1 MiB at first: a lie costs no more than that).
        boolean dropping = declared > maxBytes;
        int initial = dropping ? 0 : (int) Math.min(declared >= 0 ? declared : 8192, Math.min(maxBytes, 1 << 20));
        BodyListener listener = new BodyListener(async, in, maxBytes, deadline, ends, initial, dropping);
        async.addListener(listener);
        in.setReadListener(listener);
    }

    @Override
    public void onDataAvailable() throws IOException {
        if (dropping) {
            if (scratch == null) {
                scratch = new byte[16 * 1024];
            }
            while (!ended.get() && in.isReady()) {
                int n = in.read(scratch, 0, scratch.length);
                if (n < 0) {
                    return;
                }
                dropped += n;
            }
            return;
        }
        while (!ended.get() && in.isReady()) {
            int n;
            if (received < body.length) {
                n = in.read(body, received, body.length - received);
            } else {
                // Full: most often the declared length, and the next read is the end. Only when a byte
                // follows does the array grow. Never the one-byte read(): a container may say it is
                // ready with only framing buffered (Tomcat, a chunk's header), and read() cannot answer
                // "nothing yet" (Tomcat throws BufferUnderflowException) where read(byte[]) answers 0.
                n = in.read(next, 0, 1);
                if (n > 0) {
                    if (received >= Math.min(maxBytes, MAX_ARRAY)) {
                        end(() -> ends.tooLarge(received + 1L));
                        return;
                    }
                    body = Arrays.copyOf(body, (int) Math.min(Math.max(2L * body.length, 8192), Math.min(maxBytes,
                            MAX_ARRAY)));
                    body[received] = next[0];
                }
            }
            if (n < 0) {
                return;
            }
            received += n;
            if (received > maxBytes) {
                end(() -> ends.tooLarge(received));
                return;
            }
        }
    }

    @Override
    public void onAllDataRead() throws IOException {
        if (dropping) {
            end(() -> ends.tooLarge(dropped));
            return;
        }
        end(() -> ends.complete(received == body.length ? body : Arrays.copyOf(body, received)));
    }

    @Override
    public void onError(Throwable failure) {
        if (timedOut(failure)) {
            // The container's own wait for the next bytes ran out first (Jetty's idle timeout, which the
            // standalone server sets to the same deadline): a body not complete in time like any other.
            try {
                end(() -> {
                    if (dropping) {
                        ends.tooLarge(dropped);
                    } else {
                        ends.timedOut(received, Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)));
                    }
                });
            } catch (IOException | RuntimeException e) {
                LOG.debug("no answer to a webhook body not complete in time: {}", e.toString());
            }
            return;
        }
        // The client went away: an answer only if it can still read one (a client that closed its
        // sending side early), and never a success.
        if (ended.compareAndSet(false, true)) {
            LOG.info("webhook body not read after {} byte(s): {}", received, failure.toString());
            try {
                ends.broken(received, failure);
            } catch (IOException | RuntimeException e) {
                LOG.debug("no answer to a broken webhook body: {}", e.toString());
            } finally {
                async.complete();
            }
        }
    }

    /** A wait for the client's next bytes that ran out ({@link TimeoutException} on Jetty, a socket timeout on Tomcat). */
    static boolean timedOut(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException || t instanceof SocketTimeoutException) {
                return true;
            }
            if (t.getCause() == t) {
                break;
            }
        }
        return false;
    }

    @Override
    public void onTimeout(AsyncEvent event) {
        try {
            end(() -> {
                if (dropping) {
                    ends.tooLarge(dropped); // over the cap first of all: said as such, also when slow
                } else {
                    ends.timedOut(received, deadline);
                }
            });
        } catch (IOException e) {
            // The client is gone as well (the container's own timeout closed it at the same moment):
            // nobody to answer, and nothing for the container to log.
            LOG.debug("no answer to a webhook body not complete in time: {}", e.toString());
        }
    }

    @Override
    public void onError(AsyncEvent event) {
        onError(event.getThrowable());
    }

    @Override
    public void onComplete(AsyncEvent event) {
        // nothing held
    }

    @Override
    public void onStartAsync(AsyncEvent event) {
        // not restarted
    }

    private interface Step {
        void run() throws IOException;
    }

    private void end(Step step) throws IOException {
        if (!ended.compareAndSet(false, true)) {
            return;
        }
        try {
            step.run();
        } finally {
            async.complete();
        }
    }
}
