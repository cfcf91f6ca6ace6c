package org.buildhook.runner.rules;

import org.buildhook.core.IoProblems;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the rules in force in step with the rules file. A valid new version replaces the old one
 * atomically; an invalid one is refused, logged with all its problems and kept as {@link #lastError()},
 * and the old rules stay in force. Readers call {@link #current()} once per delivery and use that
 * {@link RuleSet} throughout, so each delivery is matched wholly against one version.
 *
 * <p>It watches the file's directory (so a file replaced by rename, as editors and {@code git pull}
 * do, is seen) and also compares the file's identity, size and time every {@code pollInterval}, for
 * file systems without change events and for symlinks whose target moves. One daemon thread named
 * {@code buildhook-rules-watcher}; {@link #close()} stops it.
 *
 * <p>The file is never read until it has stopped changing: two looks {@link #SETTLE} apart must agree
 * (for at most {@link #SETTLE_LOOKS} looks, 2 s), however the change was noticed, and it must have been seen unchanged
 * for {@link #QUIET} (1 s) by this node's own clock, and by its modification time too, checked by
 * one more look then. A file that is
 * missing is waited for the same way, as a file replaced by delete and create, or moved away before
 * the new one is moved in, is briefly missing: only one still missing after 2 s is refused. So is an
 * empty file, as {@code cat > rules.yaml} truncates it before it writes, more than {@link #SETTLE}
 * later on a loaded machine: only one still empty after 2 s is read, and refused (tryout13 F3).
 */
public final class RulesWatcher implements Closeable {

    /**
     * Told when a changed file is put in force or refused, e.g. to count reloads in metrics. A refused
     * version is reported once, not again at every look while the file stays the same. Called on the
     * watcher thread (or on the caller of {@link #checkNow()}); must not block.
     */
    public interface Listener {
        default void reloaded(RuleSet rules) {
        }

        default void refused(RuleException error) {
        }

        /**
         * After a refusal, the file is valid again and the same as the rules in force (the usual
         * fix: the bad edit reverted), so nothing is reloaded: the refusal is over all the same.
         */
        default void validAgain(RuleSet rules) {
        }

        /**
         * After each look at the file on the watcher thread (every poll interval at the latest), with the rules in
         * force: work a reload left undone (the store refused it) is tried again here (tryout57 F4, F5).
         */
        default void looked(RuleSet rules) {
        }
    }

    static final String THREAD_NAME = "buildhook-rules-watcher";
    /** The quiet time that tells a file written in place is complete. */
    static final Duration SETTLE = Duration.ofMillis(50);
    /** How many looks, {@link #SETTLE} apart, a file is waited for to stop changing or to come back: 2 s. */
    static final int SETTLE_LOOKS = 40;
    /**
     * How long a file written in place must also be seen unchanged, by this node's clock and by its modification time,
     * with a look after it, before it is read: 1 s (tryout47 F3: 50 ms of quiet read a file written in two chunks 0.4 s
     * apart half-way).
     */
    static final Duration QUIET = Duration.ofSeconds(1);
    /** FAT's file times are 2 s apart: an edit that keeps the size within that may show only in the content. */
    private static final Duration MODIFIED_LATELY = Duration.ofSeconds(2);
    private static final Logger LOG = LoggerFactory.getLogger(RulesWatcher.class);

    private final Path file;
    private final RuleSetLoader loader;
    private final Duration pollInterval;
    private final Duration settle;
    /** See {@link #QUIET}: at least the settle. */
    private final Duration quiet;
    private final Listener listener;
    private final AtomicReference<RuleSet> current;
    private final AtomicReference<RuleException> lastError = new AtomicReference<>();
    /** When the file on disk was first refused since the rules in force were loaded; null while none is refused. */
    private volatile java.time.Instant refusedSince;
    private final WatchService watchService;
    private final Thread thread;
    private final Object checkLock = new Object();
    private volatile boolean closed;
    private FileVersion lastSeen; // guarded by checkLock
    private final AtomicLong looks = new AtomicLong();
    private final AtomicLong glances = new AtomicLong();
    private WatchKey registration; // the watcher thread's, after the constructor

    private RulesWatcher(Path file, RuleSetLoader loader, Duration pollInterval, Duration settle, Duration quiet,
            Listener listener)
            throws IOException {
        this.file = file;
        this.loader = loader;
        this.pollInterval = pollInterval;
        this.settle = settle;
        this.quiet = quiet;
        this.listener = listener;
        this.lastSeen = FileVersion.of(file);
        this.current = new AtomicReference<>(loader.load(file));
        this.watchService = file.toAbsolutePath().getFileSystem().newWatchService();
        try {
            this.registration = register();
        } catch (IOException | RuntimeException e) {
            watchService.close();
            throw e;
        }
        this.thread = new Thread(this::watch, THREAD_NAME);
        thread.setDaemon(true);
    }

    /**
     * Loads {@code file} and starts watching it.
     *
     * @param pollInterval how often the file is compared even without a change event (e.g. 2s)
     * @throws RuleException when the file is invalid now: a server should not start without rules
     * @throws org.buildhook.runner.RunnerException when the directory cannot be watched
     */
    public static RulesWatcher start(Path file, RuleSetLoader loader, Duration pollInterval, Listener listener) {
        return start(file, loader, pollInterval, SETTLE, listener);
    }

    /** As {@link #start(Path, RuleSetLoader, Duration, Listener)} with another settle time, for tests. */
    static RulesWatcher start(Path file, RuleSetLoader loader, Duration pollInterval, Duration settle, Listener listener) {
        return start(file, loader, pollInterval, settle, settle.compareTo(QUIET) > 0 ? settle : QUIET, listener);
    }

    /** As {@link #start(Path, RuleSetLoader, Duration, Listener)} with other settle and quiet times, for tests. */
    static RulesWatcher start(Path file, RuleSetLoader loader, Duration pollInterval, Duration settle, Duration quiet,
            Listener listener) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(loader, "loader");
        Objects.requireNonNull(listener, "listener");
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException("pollInterval must be positive");
        }
        if (settle.isNegative() || settle.isZero()) {
            throw new IllegalArgumentException("settle must be positive");
        }
        RulesWatcher watcher;
        try {
            watcher = new RulesWatcher(file, loader, pollInterval, settle, quiet, listener);
        } catch (IOException e) {
            throw new org.buildhook.runner.RunnerException("cannot watch the rules file " + file + ": " + IoProblems.describe(e), e);
        }
        watcher.thread.start();
        return watcher;
    }

    /** The rules in force; fetch once per delivery. */
    public RuleSet current() {
        return current.get();
    }

    /** The problems of the last refused version, until a valid version is loaded. */
    public Optional<RuleException> lastError() {
        return Optional.ofNullable(lastError.get());
    }

    /**
     * Since when the file on disk is refused (this node's clock, when its first refused version was seen; a later
     * version refused too keeps that time), while {@link #lastError()} is present; empty otherwise.
     */
    public Optional<java.time.Instant> refusedSince() {
        java.time.Instant since = refusedSince;
        return lastError.get() == null ? Optional.empty() : Optional.ofNullable(since);
    }

    /**
     * Reloads now if the file changed since the last look, without waiting for the next poll (used by
     * tests; nothing in buildhook calls it on a signal: SIGHUP stops the standalone server, see
     * docs/deploying.md).
     *
     * @return true when a new version was put in force; false also when interrupted while the file
     *         was settling (the interrupt status is kept)
     */
    public boolean checkNow() {
        try {
            return check(true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            watchService.close();
        } catch (IOException e) {
            LOG.debug("closing the watch service of {} failed", file, e);
        }
        thread.interrupt();
        if (Thread.currentThread() != thread) {
            try {
                thread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** How many rounds of looking at the file (each one or more glances) since the start; for tests. */
    long looks() {
        return looks.get();
    }

    /** How many times the file's identity, size and time were read since the start; for tests. */
    long glances() {
        return glances.get();
    }

    private WatchKey register() throws IOException {
        return file.toAbsolutePath().getParent().register(watchService, StandardWatchEventKinds.ENTRY_CREATE,
                StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
    }

    private void watch() {
        while (!closed) {
            try {
                watchTheFolder();
                WatchKey key = watchService.poll(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                boolean event = false;
                if (key != null) {
                    event = concernsTheFile(file, key.pollEvents());
                    key.reset();
                }
                if (key != null && !event) {
                    // Only other files in the folder changed: a log written next to the rules changes
                    // with every line. Unwatched for SETTLE, a busy neighbour costs neither this thread
                    // nor the JDK's watch thread a wake-up per write; then the folder is watched again
                    // and the file looked at once, by content too if it changed lately (an edit in
                    // place of the same size within the file system's time resolution shows only there).
                    // Its own events were not seen meanwhile, so a change found now may be an edit in
                    // progress: check() reads it only once it has settled, as after an event.
                    key.cancel();
                    Thread.sleep(settle.toMillis());
                    watchTheFolder();
                    check(modifiedLately());
                    listener.looked(current.get());
                    continue;
                }
                check(event);
                listener.looked(current.get());
            } catch (ClosedWatchServiceException | InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // A surprise must not end the watching: the next round tries again.
                LOG.error("checking the rules file {} failed", file, e);
            }
        }
    }

    /** Registers the folder again when it is not (after a rest, or after it was gone); on failure, polling goes on. */
    private void watchTheFolder() {
        if (registration != null && registration.isValid()) {
            return;
        }
        try {
            registration = register();
        } catch (IOException e) {
            LOG.debug("cannot watch the folder of {} now; comparing it every {}", file, pollInterval, e);
        }
    }

    /** Whether the file was modified within the coarsest common file time resolution (2 s) of now. */
    private boolean modifiedLately() {
        FileVersion now = FileVersion.of(file);
        return now.modified() == null
                || Math.abs(System.currentTimeMillis() - now.modified().toMillis()) < MODIFIED_LATELY.toMillis();
    }

    /**
     * Waits until the file is there, not empty, and has stopped changing (the same identity, size and
     * time on two looks {@link #SETTLE} apart; {@link #SETTLE_LOOKS} looks at most), so that a file being
     * written in place is read when it is whole, not half-way or truncated and not yet written, and a
     * file being replaced is read once it is back.
     *
     * @param first the look that found the change
     * @return the last look: missing only when the file did not come back in time
     */
    private FileVersion settled(FileVersion first) throws InterruptedException {
        FileVersion before = first;
        // When this node first saw the version `before` (its own monotonic clock): it has been unchanged since.
        long beforeSeen = System.nanoTime();
        for (int look = 0; look < SETTLE_LOOKS; look++) {
            Thread.sleep(settle.toMillis());
            FileVersion now = glance();
            if (!now.equals(before)) {
                beforeSeen = System.nanoTime();
            }
            if (now.equals(before) && !now.missing() && now.size() > 0) {
                // Quiet for a moment is not yet complete: a writer that writes in chunks on a loaded host, over the
                // network or from a paste pauses longer than that, and the first part read as a valid version put a
                // half file in force (the rules of the unwritten half taken out, their queued jobs cancelled for
                // good: tryout47 F3). The file is read once it has not changed for QUIET either.
                long left = quietLeft(now, beforeSeen);
                if (left <= 0) {
                    return now;
                }
                Thread.sleep(left);
                FileVersion after = glance();
                if (after.equals(now)) {
                    return after;
                }
                now = after;
                beforeSeen = System.nanoTime();
            }
            before = now;
        }
        return before;
    }

    /**
     * How much longer, in milliseconds, {@code version} must stay as it is to have been quiet for {@link #QUIET}:
     * counted on this node's own monotonic clock from {@code seenNanos}, when this node first saw it ({@link
     * System#nanoTime()}), since a file's modification time may come from another clock (an NFS server's, behind
     * this node's) or be coarse (FAT's 2 s, whole seconds): read as "changed long ago", it shortened the quiet to
     * nothing, and a half file was read again (review47 F1). The modification time only lengthens it: a file this
     * node saw first a while ago but whose time says it changed lately waits until that time is {@link #QUIET} old
     * (at most {@link #QUIET}; a time in the future: the whole quiet). At most {@link #QUIET}.
     */
    private long quietLeft(FileVersion version, long seenNanos) {
        long quiet = this.quiet.toMillis();
        long byOwnClock = quiet - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - seenNanos);
        if (version.modified() == null) {
            return Math.max(0, byOwnClock);
        }
        long age = System.currentTimeMillis() - version.modified().toMillis();
        long byFileTime = age < 0 ? quiet : quiet - age;
        return Math.max(0, Math.min(quiet, Math.max(byOwnClock, byFileTime)));
    }

    private FileVersion glance() {
        FileVersion version = FileVersion.of(file);
        glances.incrementAndGet();
        return version;
    }

    /**
     * Whether events in the directory force a read of the file even if it looks unchanged: an
     * event on the file's own name (an edit in place within the file time's resolution), lost
     * events, or any event when the file is a symlink (its target may move with a sibling, as
     * Kubernetes swaps {@code ..data}). Other files in the folder — a log written next to the rules,
     * say — only cause the cheap look at identity, size and time, at most once per {@link #SETTLE}
     * (and a read if the file itself changed in the last 2 s).
     */
    static boolean concernsTheFile(Path file, List<WatchEvent<?>> events) {
        Path name = file.getFileName();
        for (WatchEvent<?> e : events) {
            if (e.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(e.context())) {
                return true;
            }
        }
        return !events.isEmpty() && Files.isSymbolicLink(file);
    }

    /** @param force read and compare the content even if the file looks unchanged */
    private boolean check(boolean force) throws InterruptedException {
        looks.incrementAndGet();
        synchronized (checkLock) {
            FileVersion now = glance();
            if (!force && now.equals(lastSeen)) {
                return false;
            }
            now = settled(now);
            lastSeen = now;
            if (now.missing()) {
                refuse(new UnreadableRulesException(new Problem(file.toString(), 0, 0, "the rules file is missing: "
                        + "it was deleted or moved away and did not come back within "
                        + Durations.describe(settle.multipliedBy(SETTLE_LOOKS)) + ". Put the rules file back at this path "
                        + "(best written next to it, then renamed over it) to change the rules")));
                return false;
            }
            return reload();
        }
    }

    private boolean reload() {
        RuleSet next;
        try {
            next = loader.load(file);
        } catch (UnreadableRulesException e) {
            if (FileVersion.of(file).missing()) {
                // Gone between the last look and the read: the next round waits for it to come back.
                lastSeen = null;
                return false;
            }
            refuse(e);
            return false;
        } catch (RuleException e) {
            refuse(e);
            return false;
        }
        RuleSet old = current.get();
        RuleException wasRefused = lastError.getAndSet(null);
        refusedSince = null;
        // The resources too: an edit of a capacity alone is a new version to put in force. The rules' order
        // too (compared as lists, not as maps): rules are checked and their jobs planned in file order, and
        // the node's rules fingerprint counts it (review18).
        if (List.copyOf(next.snapshots().entrySet()).equals(List.copyOf(old.snapshots().entrySet()))
                && next.resources().equals(old.resources())) {
            // Touched or saved unchanged: nothing to put in force. After a refusal (the bad edit
            // reverted), the refusal is over: say so, or the page, metric and log would disagree.
            if (wasRefused != null) {
                LOG.info("rules file {} is valid again: the same as the rules in force (loaded at {}), which stay",
                        file, shown(old));
                listener.validAgain(old);
            }
            return false;
        }
        current.set(next);
        LOG.info("rules file {} reloaded: {} rules ({} before){}", file, next.size(), old.size(),
                wasRefused == null ? "" : "; the refused version is replaced");
        listener.reloaded(next);
        return true;
    }

    /**
     * Keeps {@code e} as the last error and reports it, once while the file stays the same. A new
     * version refused while the last one still was lists only the problems the last refusal did not
     * (an edit in two steps, or a fix that leaves others: each problem is logged once), and counts
     * those that remain or were fixed; a problem with the same words that only moved (lines added or
     * removed above it) remains, counted as moved, not listed as new. {@link #lastError()} and the
     * status page keep the whole list, where each is now.
     */
    private void refuse(RuleException e) {
        if (lastError.get() == null) {
            refusedSince = java.time.Instant.now();
        }
        RuleException previous = lastError.getAndSet(e);
        if (previous != null && previous.getMessage().equals(e.getMessage())) {
            return;
        }
        if (previous == null) {
            LOG.error("rules file {} refused; the rules loaded at {} stay in force:\n{}",
                    file, shown(current.get()), e.getMessage());
        } else {
            // A problem listed before, at the same place or (an edit above it) only at another line or
            // column, same file and words: it remains, and is not listed again as new.
            List<Problem> before = new ArrayList<>(previous.problems());
            List<Problem> elsewhere = new ArrayList<>();
            for (Problem p : e.problems()) {
                if (!before.remove(p)) {
                    elsewhere.add(p);
                }
            }
            List<Problem> fresh = new ArrayList<>();
            int moved = 0;
            for (Problem p : elsewhere) {
                Problem same = before.stream()
                        .filter(b -> b.file().equals(p.file()) && b.message().equals(p.message()))
                        .findFirst().orElse(null);
                if (same == null) {
                    fresh.add(p);
                } else {
                    before.remove(same);
                    moved++;
                }
            }
            String counts = (e.problems().size() - fresh.size()) + " problem(s) listed before remain"
                    + (moved == 0 ? "" : " (" + moved + " of them now at another line or column)") + ", "
                    + before.size() + " fixed";
            if (fresh.isEmpty()) {
                LOG.error("rules file {} changed and is still refused; the rules loaded at {} stay in force: {}",
                        file, shown(current.get()), counts);
            } else {
                LOG.error("rules file {} changed and is still refused; the rules loaded at {} stay in force: {};"
                        + " new:\n{}", file, shown(current.get()), counts, Problem.lines(fresh));
            }
        }
        listener.refused(e);
    }

    /** When {@code rules} were loaded, to the millisecond as every time buildhook logs (not the clock's nanoseconds). */
    private static java.time.Instant shown(RuleSet rules) {
        return rules.loadedAt().truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
    }
}
