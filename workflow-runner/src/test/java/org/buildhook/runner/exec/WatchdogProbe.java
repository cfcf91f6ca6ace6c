package org.buildhook.runner.exec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Tests of other packages: a node's real watchdog process whose conversation with the node is recorded
 * (every line the node writes to it, every line the node reads from it), and whose lines after its first
 * ({@code H}) can be held back until the node asks a question ({@code Q}), as if the node read them late
 * (kline19 K1). Start a watchdog with {@link #start(String, Duration)} (e.g. as a job engine's).
 */
public final class WatchdogProbe {

    private final boolean holdUntilAsked;
    /** Whether every line after {@code H} is held back until the watchdog's output ends (it never answers). */
    private final boolean holdForEver;
    private final List<String> written = new ArrayList<>();
    private final List<String> read = new ArrayList<>();

    private WatchdogProbe(boolean holdUntilAsked) {
        this(holdUntilAsked, false);
    }

    private WatchdogProbe(boolean holdUntilAsked, boolean holdForEver) {
        this.holdUntilAsked = holdUntilAsked;
        this.holdForEver = holdForEver;
    }

    /** A probe that only records. */
    public static WatchdogProbe recording() {
        return new WatchdogProbe(false);
    }

    /**
     * A probe that holds back every line of the watchdog after its {@code H} until the watchdog's process ends: a
     * watchdog that reads (its beats, its questions) and never answers, as one stopped or hung between the two would.
     */
    public static WatchdogProbe neverAnswering() {
        return new WatchdogProbe(false, true);
    }

    /** A probe that also holds back every line of the watchdog after its {@code H} until the node writes a {@code Q}. */
    public static WatchdogProbe holdingReportsUntilAsked() {
        return new WatchdogProbe(true);
    }

    /** Starts a real watchdog process for {@code node} with the dead-node limit {@code limit}, seen by this probe. */
    public Watchdog start(String node, Duration limit) {
        return Watchdog.start(node, limit, builder -> new Probed(builder.start()));
    }

    /** The lines the node wrote to its watchdog so far, without their newline. */
    public List<String> written() {
        synchronized (written) {
            return List.copyOf(written);
        }
    }

    /** The lines the node read from its watchdog so far, without their newline. */
    public List<String> read() {
        synchronized (read) {
            return List.copyOf(read);
        }
    }

    /** Stops (false) or resumes the node's beats to {@code watchdog}, as a paused JVM would. */
    public static void beating(Watchdog watchdog, boolean value) {
        watchdog.beating(value);
    }

    /** Splits bytes into lines as they pass, adding each whole line to {@code lines}. */
    private static final class Lines {
        private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
        private final List<String> lines;

        Lines(List<String> lines) {
            this.lines = lines;
        }

        /** Returns the whole lines these bytes completed. */
        synchronized List<String> add(byte[] b, int off, int len) {
            List<String> done = new ArrayList<>();
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    done.add(partial.toString(StandardCharsets.US_ASCII));
                    partial.reset();
                } else {
                    partial.write(b[i]);
                }
            }
            synchronized (lines) {
                lines.addAll(done);
            }
            return done;
        }
    }

    private final class Probed extends ForwardingProcess {
        private final CountDownLatch asked = new CountDownLatch(1);
        /** Counted down when the watchdog's process ends (or is killed): nothing is held back any more. */
        private final CountDownLatch ended = new CountDownLatch(1);
        private final InputStream in;
        private final OutputStream out;

        Probed(Process real) {
            super(real);
            real.onExit().thenRun(ended::countDown);
            InputStream from = real.getInputStream();
            Lines reading = new Lines(read);
            this.in = new InputStream() {
                private boolean firstLineRead;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) throws IOException {
                    if (firstLineRead && holdForEver) {
                        try {
                            ended.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException();
                        }
                    }
                    if (firstLineRead && holdUntilAsked) {
                        try {
                            asked.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException();
                        }
                    }
                    // One byte at a time until the H is read: nothing after it is taken before it is to be given.
                    int n = from.read(b, off, firstLineRead ? len : 1);
                    if (n > 0) {
                        if (!reading.add(b, off, n).isEmpty()) {
                            firstLineRead = true;
                        }
                    }
                    return n;
                }

                @Override
                public int available() throws IOException {
                    return firstLineRead && (holdUntilAsked && asked.getCount() > 0 || holdForEver && ended.getCount() > 0)
                            ? 0 : Math.min(1, from.available());
                }
            };
            OutputStream to = real.getOutputStream();
            Lines writing = new Lines(written);
            this.out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    to.write(b, off, len);
                    for (String line : writing.add(b, off, len)) {
                        if (line.startsWith("Q ")) {
                            asked.countDown();
                        }
                    }
                }

                @Override
                public void flush() throws IOException {
                    to.flush();
                }

                @Override
                public void close() throws IOException {
                    to.close();
                }
            };
        }

        @Override
        public OutputStream getOutputStream() {
            return out;
        }

        @Override
        public InputStream getInputStream() {
            return in;
        }

        @Override
        protected void outputEnds() {
            asked.countDown(); // nothing is held back any more
            ended.countDown();
        }
    }
}
