package org.buildhook.benchmarks.limits;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * The fsync ceiling of a folder's file system: one thread writes 4 KiB and forces it to disk
 * ({@code FileChannel.force(false)}, i.e. {@code fdatasync}, what SQLite's WAL commit does) in a
 * timed loop, appending to a 4 MiB ring like a WAL file, and reports the mean and percentiles of
 * one durable write. With group commit, {@code concurrency} waiting commits can share one fsync, so
 * the ceiling for that concurrency is {@code concurrency / mean fsync time}; the same loop run by
 * {@code concurrency} threads on files of their own is printed too (what a disk gives to writers
 * that do not share).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.FsyncCeiling DIR [concurrency=16] [seconds=5]
 * </pre>
 *
 * The last line is {@code RESULT fsync_ms=… fsync_p99_ms=… ceiling_per_s=… parallel_per_s=…}.
 */
public final class FsyncCeiling {

    private static final int BLOCK = 4096;
    private static final long RING = 4L << 20;

    private FsyncCeiling() {
    }

    /** Runs the measurement the class comment describes; arguments as shown there. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: FsyncCeiling DIR [concurrency=16] [seconds=5]");
            System.exit(2);
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        long[] one = loop(dir.resolve("fsync-ceiling-0"), (long) (seconds * 1e9));
        long[] sorted = one.clone();
        Arrays.sort(sorted);
        double meanMs = Arrays.stream(one).average().orElse(Double.NaN) / 1e6;
        double p99Ms = sorted[Math.min(sorted.length - 1, (int) (sorted.length * 0.99))] / 1e6;
        double p50Ms = sorted[sorted.length / 2] / 1e6;

        Thread[] threads = new Thread[concurrency];
        long[] counts = new long[concurrency];
        long parallelNanos = (long) (seconds * 1e9);
        for (int t = 0; t < concurrency; t++) {
            int index = t;
            threads[t] = new Thread(() -> {
                try {
                    counts[index] = loop(dir.resolve("fsync-ceiling-p" + index), parallelNanos).length;
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            threads[t].start();
        }
        long total = 0;
        for (int t = 0; t < concurrency; t++) {
            threads[t].join();
            total += counts[t];
        }
        double parallelPerSecond = total / seconds;
        double ceiling = concurrency / (meanMs / 1e3);
        System.out.printf(Locale.ROOT, "fsync of 4 KiB on %s: %d in %.1f s, mean %.3f ms, p50 %.3f ms, p99 %.3f ms;"
                + " ceiling for %d commits sharing each fsync: %.0f/s; %d threads fsyncing files of their own: %.0f/s%n",
                Files.getFileStore(dir), one.length, seconds, meanMs, p50Ms, p99Ms, concurrency, ceiling, concurrency,
                parallelPerSecond);
        System.out.printf(Locale.ROOT, "RESULT label=fsync concurrency=%d fsyncs=%d fsync_ms=%.3f fsync_p50_ms=%.3f"
                + " fsync_p99_ms=%.3f ceiling_per_s=%.1f parallel_per_s=%.1f%n", concurrency, one.length, meanMs,
                p50Ms, p99Ms, ceiling, parallelPerSecond);
        for (int t = 0; t < concurrency; t++) {
            Files.deleteIfExists(dir.resolve("fsync-ceiling-p" + t));
        }
        Files.deleteIfExists(dir.resolve("fsync-ceiling-0"));
    }

    /** Writes and forces 4 KiB blocks for {@code nanos}; returns the time of each. */
    private static long[] loop(Path file, long nanos) throws IOException {
        long[] times = new long[1 << 16];
        int n = 0;
        ByteBuffer block = ByteBuffer.allocateDirect(BLOCK);
        for (int i = 0; i < BLOCK; i++) {
            block.put(i, (byte) i);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            long end = System.nanoTime() + nanos;
            long position = 0;
            for (long now = System.nanoTime(); now < end; ) {
                block.clear();
                while (block.hasRemaining()) {
                    channel.write(block, position + block.position());
                }
                channel.force(false);
                long after = System.nanoTime();
                if (n == times.length) {
                    times = Arrays.copyOf(times, n * 2);
                }
                times[n++] = after - now;
                now = after;
                position = (position + BLOCK) % RING;
            }
        }
        return Arrays.copyOf(times, n);
    }
}
