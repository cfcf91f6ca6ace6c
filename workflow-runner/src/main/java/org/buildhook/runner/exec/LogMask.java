package org.buildhook.runner.exec;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * What a job writes to its log, with each of its secret values replaced by {@code ***} before it reaches the log
 * (mask36): by exact value, as GitHub Actions, GitLab's masked variables and Jenkins' credentials binding do, never
 * by guessing at shapes in the output, which would hide what an operator needs to read. A secret's common encodings
 * (base64, hex, percent-encoding: {@link EncodedForms}) are masked the same way, as exact values of their own
 * (mask39), and so is a secret written as a JSON string with any of its characters escaped ({@link JsonStringForm}:
 * mask46).
 *
 * <p>A secret split across two reads of the pipe is still masked: the longest tail of a chunk that is a proper
 * prefix of a secret (or of an encoded form) is held back until the next chunk shows whether the secret follows, or
 * until {@link #end()} (the output has ended), which writes it as it is. So a reader of the live log ({@code logs -f})
 * lags by at most that tail, the longest masked string's length less one byte (a secret written as a JSON string with
 * every character escaped, <code>&#92;u0041</code>, is six times its length). Masking before the log's cap means that
 * no part of a secret that spans the cap can be kept either.
 *
 * <p>Values of fewer than {@value SecretNames#SHORTEST_MASKED_VALUE} characters are not masked: masking {@code 1}
 * or {@code yes} would hide every such piece of the output; {@code buildhook check} warns about such a secret.
 * A job with no secret values gets its log without this filter ({@link #over}): it costs nothing then.
 *
 * <p>One writer, the attempt's output pump; the attempt may {@link #giveUp()} the output from its own thread.
 */
public final class LogMask extends OutputStream {

    static final byte[] MASK = "***".getBytes(StandardCharsets.US_ASCII);

    private final OutputStream log;
    /** What is masked: the secrets' bytes and their encoded forms, by first byte (mask39). */
    private final MaskTable table;
    /** The bytes held back from the last chunk: a proper prefix of a secret. */
    private final byte[] held;
    private int heldLength;
    /** The output was given up ({@link #giveUp()}): what the pipe still gives is not written. */
    private boolean givenUp;
    /** What one chunk becomes, reused. */
    private byte[] out = new byte[0];
    private byte[] joined = new byte[0];

    private LogMask(OutputStream log, MaskTable table) {
        this.log = log;
        this.table = table;
        // The hold-back covers the longest masked string or JSON string form: both are longer than the secret.
        this.held = new byte[table.longest];
    }

    /**
     * {@code log} with {@code values} masked in what is written to it; {@code log} itself (no filter, no cost) when
     * none of them is long enough to be masked.
     *
     * @param values the job's secret values; those shorter than {@value SecretNames#SHORTEST_MASKED_VALUE}
     *               characters, and null ones, are left out
     */
    public static OutputStream over(OutputStream log, Collection<String> values) {
        Objects.requireNonNull(log, "log");
        Set<String> masked = new HashSet<>();
        for (String v : values) {
            if (v != null && v.length() >= SecretNames.SHORTEST_MASKED_VALUE) {
                masked.add(v);
            }
        }
        return masked.isEmpty() ? log : new LogMask(log, MaskTable.of(masked));
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] bytes, int offset, int length) throws IOException {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        if (length == 0 || givenUp) {
            return;
        }
        byte[] data = bytes;
        int from = offset;
        int end = offset + length;
        if (heldLength > 0) {
            if (joined.length < heldLength + length) {
                joined = new byte[heldLength + length];
            }
            System.arraycopy(held, 0, joined, 0, heldLength);
            System.arraycopy(bytes, offset, joined, heldLength, length);
            data = joined;
            from = 0;
            end = heldLength + length;
            heldLength = 0;
        }
        mask(data, from, end, false);
    }

    /**
     * The output has ended: writes what was held back, as it is (the job printed a secret's beginning only).
     * The log itself stays open: the attempt still writes its own lines to it, and closes it.
     */
    public synchronized void end() throws IOException {
        if (heldLength > 0) {
            int n = heldLength;
            heldLength = 0;
            byte[] rest = Arrays.copyOf(held, n);
            mask(rest, 0, n, true);
        }
    }

    /**
     * The attempt gives up its output (a process outside the job still holds the pipe, PooledStreamHandler): writes
     * {@code ***} for what was held back, now, before the attempt writes its own last lines and closes the log, and
     * nothing the pipe gives after that (mask36 L2: the held bytes were dropped, the pump writing them only once the
     * holder let the pipe go, to a closed log). Not the held bytes themselves, as {@link #end()} writes them: there the
     * output has ended and they were all the job printed of the secret; here the rest of the secret may be in the pipe,
     * unread, and they would show all of it but its last byte (review38: {@code s3cr3t-P} of {@code s3cr3t-Pa55word}).
     */
    public synchronized void giveUp() throws IOException {
        if (heldLength > 0) {
            heldLength = 0;
            log.write(MASK);
        }
        givenUp = true;
    }

    /** Writes {@code data[from, end)} masked; unless {@code last}, holds back a tail that may begin a secret. */
    private void mask(byte[] data, int from, int end, boolean last) throws IOException {
        if (out.length < end - from) {
            out = new byte[Math.max(end - from, 2 * out.length)];
        }
        int o = 0;
        int copied = from;
        int i = from;
        while (i < end) {
            int first = data[i] & 0xff;
            // Most bytes start nothing, or are followed by another byte than what they start: one look each. The
            // rest in a method of its own: this loop stays small, which the JIT compiles three times faster (mask46).
            if (!table.starts(first) || i + 1 < end && !table.startsWith(first, data[i + 1] & 0xff)) {
                i++;
                continue;
            }
            int matched = longestAt(data, i, end, last);
            if (matched == HOLD) {
                break;
            }
            if (matched > 0) {
                o = append(data, copied, i, o);
                o = grow(o + MASK.length);
                System.arraycopy(MASK, 0, out, o - MASK.length, MASK.length);
                i += matched;
                copied = i;
            } else {
                i++;
            }
        }
        o = append(data, copied, i, o);
        if (i < end) {
            heldLength = end - i;
            System.arraycopy(data, i, held, 0, heldLength);
        }
        if (o > 0) {
            log.write(out, 0, o);
        }
    }

    /** {@link #longestAt}: the rest of the chunk begins a masked string longer than any whole match: wait for more. */
    private static final int HOLD = -2;

    /**
     * The length of the longest masked string or JSON string form at {@code data[at]} (before {@code end}), -1 when
     * none is there, or {@link #HOLD} when one may be but the chunk ends first (never when {@code last}).
     */
    private int longestAt(byte[] data, int at, int end, boolean last) {
        int first = data[at] & 0xff;
        int matched = -1;
        boolean prefixToEnd = false;
        byte[][] candidates = table.startingWith(first);
        if (candidates != null) {
            for (byte[] s : candidates) {
                // Most bytes that start a secret are followed by another byte than its second one: no call then.
                if (at + 1 < end && s[1] != data[at + 1]) {
                    continue;
                }
                int n = common(data, at, end, s);
                if (n == s.length) {
                    if (matched < 0) {
                        matched = n; // longest first: the first whole match is the longest
                    }
                } else if (n == end - at && !last) {
                    // The rest of the chunk begins a secret longer than any whole match here: wait for more.
                    prefixToEnd = true;
                }
            }
        }
        JsonStringForm[] json = table.jsonStartingWith(first);
        if (json != null) {
            for (JsonStringForm form : json) {
                int n = form.match(data, at, end);
                if (n > matched) {
                    matched = n;
                } else if (n == JsonStringForm.MORE && !last) {
                    prefixToEnd = true; // it would be longer than any whole match here, which ends by `end`
                }
            }
        }
        return prefixToEnd ? HOLD : matched;
    }

    /** How many bytes from {@code data[at]} on (up to {@code end}) agree with the start of {@code secret}. */
    private static int common(byte[] data, int at, int end, byte[] secret) {
        int n = Math.min(end - at, secret.length);
        int mismatch = Arrays.mismatch(data, at, at + n, secret, 0, n);
        return mismatch < 0 ? n : mismatch;
    }

    private int append(byte[] data, int from, int to, int o) {
        int n = to - from;
        if (n > 0) {
            o = grow(o + n);
            System.arraycopy(data, from, out, o - n, n);
        }
        return o;
    }

    /** Makes room for {@code size} bytes of output, keeping what is there; returns {@code size}. */
    private int grow(int size) {
        if (size > out.length) {
            out = Arrays.copyOf(out, Math.max(size, 2 * out.length));
        }
        return size;
    }

    @Override
    public void flush() throws IOException {
        log.flush();
    }

    /** Ends the output ({@link #end()}); the log stays open (the attempt closes it). */
    @Override
    public void close() throws IOException {
        end();
    }
}
