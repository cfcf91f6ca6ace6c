package org.buildhook.servlet;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.runner.engine.EndNotRecorded;
import org.buildhook.runner.exec.JobLogs;
import org.buildhook.runner.store.JobAttempt;
import org.buildhook.runner.store.Job;
import org.buildhook.runner.store.JobDetail;
import org.buildhook.runner.store.JobState;
import org.buildhook.runner.store.Store;

/**
 * {@code GET /api/jobs/{id}/log}: an attempt's log file as stored (bytes as-is), with single
 * {@code Range: bytes=} requests, or followed ({@code ?follow=1}) until the attempt ends. Following
 * looks at the file and the store every {@link #POLL} and gives up after {@link #MAX_FOLLOW}, so a
 * forgotten {@code -f} cannot last forever; it holds no request thread meanwhile ({@link LogFollows}),
 * and a store that cannot be read stops it with a last line that says so ({@link LogFollows#STOPPED}).
 */
final class JobLogSender {

    static final Duration POLL = Duration.ofMillis(250);
    static final Duration MAX_FOLLOW = Duration.ofMinutes(10);

    /**
     * How long one follow lasts: {@link #MAX_FOLLOW}, or {@code -Dbuildhook.log-follow-max} (an ISO-8601
     * duration, {@code PT5S}), which tests use to see a follow end without waiting ten minutes.
     */
    static Duration maxFollow() {
        String set = System.getProperty("buildhook.log-follow-max");
        try {
            return set == null ? MAX_FOLLOW : Duration.parse(set);
        } catch (java.time.format.DateTimeParseException e) {
            return MAX_FOLLOW;
        }
    }
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d*)-(\\d*)");

    /** The answer when the attempt ran (or runs) on another node and its log is not on this node's disk. */
    static final int ON_ANOTHER_NODE = 421; // Misdirected Request: this server cannot produce it; another can

    private final Store store;
    private final JobLogs logs;
    private final String thisNode;
    private final LogFollows follows;
    /** What this node's stop knew of a job's attempt and could not record, by job id ({@link #notRecordedLine}). */
    private final java.util.function.Function<String, Optional<EndNotRecorded>> endsNotRecorded;

    /** In a follow's last line when the server's stop ended it after the job ended: {@code ended SUCCEEDED}. */
    static final String STOPPING_ENDED = "ended ";

    /**
     * @param thisNode this node's id ({@code runner.node-id}), compared with the node each attempt records
     * @param follows  serves the follows ({@code ?follow=1})
     * @param endsNotRecorded how this node's graceful stop knew a job's attempt ended and could not record it, by job
     *                 id ({@code JobEngine#endNotRecorded}); empty for the others
     */
    JobLogSender(Store store, JobLogs logs, String thisNode, LogFollows follows,
            java.util.function.Function<String, Optional<EndNotRecorded>> endsNotRecorded) {
        this.store = store;
        this.logs = logs;
        this.thisNode = comparedNode(store, thisNode);
        this.follows = follows;
        this.endsNotRecorded = endsNotRecorded;
    }

    /**
     * The last line of a follow of attempt {@code attempt} of job {@code jobId} (the job's last when null) that this
     * server's graceful stop ends, when the stop knew how that attempt ended here and could not record it (the store
     * could not be reached, or took no write): the store still shows it running, and saying so was untrue (tryout45
     * F4: "while job J is RUNNING" after the command had exited 0). {@code seen}: the job as the follow's last look
     * read it, or null; the line is given only while that look did not see the attempt ended, nor another attempt.
     * Null when the stop knew nothing of it.
     */
    String notRecordedLine(String jobId, Integer attempt, JobDetail seen) {
        EndNotRecorded end = endsNotRecorded.apply(jobId).orElse(null);
        if (end == null || (attempt != null && attempt != end.attempt())) {
            return null;
        }
        if (seen != null) {
            Optional<JobAttempt> stored = attempt(seen, attempt);
            if (stored.isPresent() && (stored.get().attempt() != end.attempt() || stored.get().ended())) {
                return null;
            }
        }
        String ended = end.ended() == null ? "" : " at " + end.ended();
        String until = "until then the store shows the attempt running, and the job " + (seen == null ? "RUNNING"
                : seen.job().state().name());
        return LogFollows.STOPPED + "the server is stopping (graceful stop); attempt " + end.attempt() + " of job "
                + jobId + " ended on this node: " + org.buildhook.core.LogSafe.escape(end.how()) + ended
                + ", but the store could not record it before the stop; " + (!end.exited()
                        ? "the job runs again after this node's next start, or on another node (" + until + ")"
                        : end.kept() ? "kept for this node's next start, which records it and does not run the command"
                                + " again (" + until + ")"
                        : "it could not be kept for this node's next start either, which runs the command again"
                                + " unless the line the server's log gives is added to its stops-not-recorded file"
                                + " first (" + until + ")")
                + "; follow again once the server runs (buildhook logs -f " + jobId + ")\n";
    }

    /**
     * The node id attempts are compared with to tell whose disk has their log: {@code null} on SQLite,
     * which one node uses, where every attempt ran on this node's disk, under the id of an earlier start
     * perhaps ({@code <hostname>-<pid>} changes at each one): a log missing there was deleted, not kept on
     * another node (tryout13 F5).
     */
    static String comparedNode(Store store, String nodeId) {
        return store.dialect() == org.buildhook.runner.store.Dialect.POSTGRESQL ? nodeId : null;
    }

    /**
     * Whether the attempt ran (or runs) on a node other than {@code thisNode}, as the attempt records;
     * never when {@code thisNode} is {@code null} (see {@link #comparedNode}).
     */
    static boolean onAnotherNode(JobAttempt attempt, String thisNode) {
        return thisNode != null && attempt.node() != null && !attempt.node().equals(thisNode);
    }

    /**
     * Why an attempt's log file is not on this node's disk, for the API, the CLI and the status page:
     * the node that has it when the attempt records another one, with where that node wrote it (a node id
     * alone may name a node that no longer runs under it: cluster27 F9); else that the file is missing here. An
     * attempt whose node ended it before it ran the command says so and why, wherever it was (tryout42 F10: it read as
     * a log deleted or a changed log-dir).
     *
     * @param file where this node looked for it ({@link #logFile}), or null when it had nowhere to look
     */
    static String whyNoLog(JobAttempt attempt, String thisNode, Path file) {
        if (attempt.neverStarted()) {
            // Not a file lost: its node ended it before the command ran (tryout42 F10).
            return "attempt " + attempt.attempt() + " of job " + attempt.jobId() + " never started its command, so it"
                    + " has no log: " + attempt.message().substring(JobAttempt.NOT_STARTED.length());
        }
        if (onAnotherNode(attempt, thisNode)) {
            return "the log of attempt " + attempt.attempt() + " is on node " + attempt.node() + ", which "
                    + (attempt.ended() ? "ran" : "runs") + " it, not on this node (" + thisNode
                    + "): ask node " + attempt.node() + " (buildhook logs --url <its address>; 'buildhook nodes' lists"
                    + " the nodes with their hosts)" + (attempt.logPath() == null ? ""
                            : ", where it was written to " + attempt.logPath())
                    + ", or share the log directory between the nodes";
        }
        return !attempt.ended()
                ? "the log of attempt " + attempt.attempt() + " is not written yet"
                : "the log file of attempt " + attempt.attempt() + " is missing on this node ("
                        + (file == null ? "" : "no " + file + ": ") + "deleted outside buildhook, or runner.log-dir"
                        + " changed since it ran without its folders being moved there?)";
    }

    /**
     * Why a job has no attempt, and so no log, for the API, the CLI and the status page: one that
     * ended before it ran says how (rejected by whom and when), not "not started yet" as if it might
     * still run (tryout14 F10); one that may still run says what it waits for.
     */
    static String whyNoAttempt(Job job) {
        String id = job.id();
        String at = job.endedAt() == null ? "" : " at " + job.endedAt();
        String message = job.message() == null || job.message().isBlank() ? null : job.message();
        if (job.state() == JobState.REJECTED) {
            // "rejected by <actor>", as the approval recorded it
            return "job " + id + " was " + (message != null && message.startsWith("rejected") ? message : "rejected")
                    + at + " before it ran: it has no log";
        }
        if (job.state().isFinal()) {
            return "job " + id + " never ran: it ended " + job.state() + at + (message == null ? "" : " (" + message + ")")
                    + ", so it has no log";
        }
        if (job.state() == JobState.AWAITING_APPROVAL) {
            return "job " + id + " awaits an approval and has not run yet: it has a log once approved and started"
                    + " (buildhook approve " + id + ")";
        }
        return "job " + id + " has not started an attempt yet";
    }

    void send(String jobId, LogParameters asked, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        Integer wanted = asked.attempt();
        JobDetail job = store.job(jobId).orElseThrow(() -> AdminRequests.noJob(store, jobId));
        if (asked.follow()) {
            follow(jobId, wanted, asked, request, response);
            return;
        }
        JobAttempt attempt = attempt(job, wanted).orElseThrow(() -> ApiError.notFound(job.attempts().isEmpty()
                ? whyNoAttempt(job.job()) : "job " + jobId + " has no attempt " + wanted));
        Path file = logFile(jobId, attempt);
        long size;
        try {
            if (file == null) {
                throw new NoSuchFileException(jobId);
            }
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw onAnotherNode(attempt, thisNode) && !attempt.neverStarted()
                    ? new ApiError(ON_ANOTHER_NODE, whyNoLog(attempt, thisNode, file))
                    : ApiError.notFound(whyNoLog(attempt, thisNode, file));
        }
        long from = 0;
        long to = size - 1;
        String range = request.getHeader("Range");
        if (range == null && asked.notes()) {
            sendWithNotes(file, asked.from(), asked.length(), response);
            return;
        }
        response.setContentType("text/plain; charset=utf-8");
        response.setHeader("Accept-Ranges", "bytes");
        response.setHeader("Cache-Control", "no-store");
        if (range != null) {
            long[] r = range(range, size);
            if (r == null) {
                response.setHeader("Content-Range", "bytes */" + size);
                throw new ApiError(416, "range " + range + " is not within the log's " + size + " bytes");
            }
            from = r[0];
            to = r[1];
            response.setStatus(HttpServletResponse.SC_PARTIAL_CONTENT);
            response.setHeader("Content-Range", "bytes " + from + "-" + to + "/" + size);
        } else {
            response.setStatus(HttpServletResponse.SC_OK);
        }
        response.setContentLengthLong(Math.max(0, to - from + 1));
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            copy(channel, from, to + 1, response.getOutputStream());
        }
    }

    /** The most bytes of one {@code ?notes=1} answer: the piece is read whole into memory. */
    static final int NOTES_PAGE = LogParameters.NOTES_PAGE;

    /** The header of a {@code ?notes=1} answer that says which of its bytes are buildhook's notes. */
    static final String NOTES_HEADER = "X-Buildhook-Log-Notes";

    /**
     * {@code ?notes=1}: the log from byte {@code from} on, at most {@link #NOTES_PAGE} bytes ending at a line's end
     * (unless a line is longer, or the log ends there), with {@link #NOTES_HEADER}: {@code unknown} when the log's
     * notes are not known (an older build's log, a record lost or being rewritten: show nothing as buildhook's), else
     * {@code recorded} followed by {@code ; OFFSET+LENGTH} for each note wholly in the answer (offsets in the log,
     * not the answer), read as {@link LogNotes#readFrom} reads them: a line of the answer that is in none was printed
     * by the command. An empty answer: nothing from {@code from} on. The bytes are the log's, as without it.
     * With {@code length} (not 0): at most that many bytes, not cut at a line's end ({@code buildhook logs -f} on a
     * terminal asks for one line and the byte after it, to learn whether that line is a note).
     *
     * @param length 1 to {@link #NOTES_PAGE} bytes, or 0 for the default (a page ending at a line's end)
     */
    private static void sendWithNotes(Path file, long from, int length, HttpServletResponse response)
            throws IOException {
        int most = length == 0 ? NOTES_PAGE : length;
        org.buildhook.runner.exec.LogNotes.Piece piece;
        try {
            piece = org.buildhook.runner.exec.LogNotes.readFrom(file, from, most);
        } catch (NoSuchFileException e) {
            throw ApiError.notFound("the log file is missing on this node");
        }
        byte[] bytes = piece.bytes();
        length = bytes.length;
        if (most == NOTES_PAGE && length == NOTES_PAGE) {
            // Not the log's end (or by chance exactly there): end at a line's end, so that no note is cut in two.
            int last = length - 1;
            while (last >= 0 && bytes[last] != '\n') {
                last--;
            }
            if (last >= 0) {
                length = last + 1;
            }
        }
        StringBuilder notes = new StringBuilder(piece.recorded() ? "recorded" : "unknown");
        for (org.buildhook.runner.exec.LogNotes.Range r : piece.notes()) {
            if (r.end() <= piece.from() + length) {
                notes.append("; ").append(r.offset()).append('+').append(r.length());
            }
        }
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("text/plain; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        response.setHeader(NOTES_HEADER, notes.toString());
        response.setContentLength(length);
        response.getOutputStream().write(bytes, 0, length);
    }

    /**
     * Starts following on {@code request}'s async context: the request thread returns at once, and
     * {@code follows} sends the output as it grows (see {@link LogFollows}). Asked with {@code mark=1}, the lines
     * {@code follows} writes itself begin with a mark made for this answer, given in its header ({@link FollowMarks}).
     */
    private void follow(String jobId, Integer wanted, LogParameters asked, HttpServletRequest request,
            HttpServletResponse response) throws IOException {
        response.setStatus(HttpServletResponse.SC_OK);
        response.setContentType("text/plain; charset=utf-8");
        response.setHeader("Cache-Control", "no-store");
        String mark = asked.mark() ? FollowMarks.newMark() : null;
        if (mark != null) {
            response.setHeader(FollowMarks.HEADER, mark);
        }
        follows.follow(request.startAsync(), new Following(jobId, wanted, asked.from(), asked.state(), mark),
                "job " + jobId, mark);
    }

    /**
     * The last line of a follow asked with {@code state=1} whose job has ended, as {@code buildhook logs -f} prints a
     * job's end ({@link FollowEndLine}): {@code [buildhook] job J SUCCEEDED: exited with 0 (1 attempt(s))}, with
     * {@code , N interrupted} after the attempts when its node cut some short. The command then needs no request after the follow, which a server
     * that stopped meanwhile would refuse (tryout38 F2, fixes38 F1).
     */
    static String endLine(String jobId, JobDetail detail) {
        Job job = detail.job();
        return FollowEndLine.of(jobId, job.state().name(), job.message(), job.attempts(),
                Job.interrupted(detail.attempts()), Job.notStarted(detail.attempts()));
    }

    /**
     * One follow's output: the log as it grows, until the attempt ends or {@link #MAX_FOLLOW} passed.
     * Its looks read the store on {@link LogFollows}' looks threads; a store that cannot be read
     * throws there, which stops the follow with a line that says so.
     */
    private final class Following implements LogFollows.Source {
        private final String jobId;
        private final Integer wanted;
        private final long deadline = System.nanoTime() + maxFollow().toNanos();
        /** Opened by a look; volatile as a stop may close it while a look runs (then again after it). */
        private volatile FileChannel channel;
        /** The opened log's path and identity: a log past its cap is replaced by its truncated version. */
        private Path path;
        private Object fileKey;
        private boolean checkedReplaced;
        private long position;
        private byte[] note;
        private boolean endedAtLook;
        private boolean over;
        /** {@code state=1}: {@link #ending()} says how the job ended. */
        private final boolean state;
        /** What begins the note that the log is on another node: the follow's mark and a space, or nothing. */
        private final String marked;
        /** The job as the last look saw it, for {@link #stopping()}; on the looks' threads, read after. */
        private volatile JobDetail seen;
        /** The followed attempt as the last look saw it when it had ended, else null: for {@link #ending()}. */
        private volatile JobAttempt attemptEnded;
        /** {@link #stopping()} gave the stop's line: it said how the job stands and to follow again. */
        private volatile boolean stopSaid;

        /**
         * @param from  where to start in the log: 0, or where a follow that ended at its time limit stopped
         * @param state whether the follow ends with the job's state when the job has ended ({@code state=1})
         * @param mark  the follow's mark ({@code mark=1}), which begins its note that the log is on another node, or
         *              null
         */
        Following(String jobId, Integer wanted, long from, boolean state, String mark) {
            this.jobId = jobId;
            this.wanted = wanted;
            this.position = from;
            this.state = state;
            this.marked = mark == null ? "" : mark + " ";
        }

        @Override
        public void look() {
            // On the follows' few threads (LogFollows.LOOKS): each answer of PostgreSQL bounded (Store.look), or one
            // that never came held a thread, and with all of them held every follow of the node stood still.
            store.look(this::lookNow);
        }

        private void lookNow() {
            // The job and its attempts in one snapshot (Store.job): an attempt seen ended is seen with the job's state
            // its end left, which the stop's line and the end line say (fixes38 F2: read in two statements, a look
            // could see it ended and the job RUNNING, and read the job again for that).
            Optional<JobDetail> job = store.job(jobId);
            Optional<JobAttempt> attempt = job.flatMap(j -> attempt(j, wanted));
            job.ifPresent(j -> seen = j);
            attemptEnded = attempt.filter(JobAttempt::ended).orElse(null);
            endedAtLook = job.isEmpty() || attempt.map(JobAttempt::ended).orElse(false)
                    || (attempt.isEmpty() && job.get().job().state().isFinal())
                    || System.nanoTime() > deadline;
            if (channel == null && attempt.isPresent() && logFile(jobId, attempt.get()) != null) {
                try {
                    path = logFile(jobId, attempt.get());
                    fileKey = fileKey(path);
                    channel = openQuietly(path);
                    if (channel != null && !java.util.Objects.equals(fileKey, fileKey(path))) {
                        // Replaced between the two looks: what was opened is the truncated log, which stays.
                        fileKey = fileKey(path);
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                if (channel == null && onAnotherNode(attempt.get(), thisNode)) {
                    // Its log grows on another node's disk: waiting here would show nothing.
                    note = (marked + "[buildhook] " + whyNoLog(attempt.get(), thisNode, path) + "\n")
                            .getBytes(java.nio.charset.StandardCharsets.UTF_8);
                    endedAtLook = true;
                }
            }
        }

        @Override
        public String stopping() {
            stopSaid = true;
            String known = notRecordedLine(jobId, wanted, seen);
            if (known != null) {
                return known;
            }
            Job job = seen == null ? null : seen.job();
            String stops = LogFollows.STOPPED + "the server is stopping (graceful stop)";
            if (job == null) {
                return stops + "; follow again once it runs\n";
            }
            String message = job.message() == null || job.message().isEmpty() ? ""
                    : " (" + org.buildhook.core.LogSafe.escapeMessage(job.message()) + ")";
            // STOPPING_ENDED is read by 'buildhook logs -f', which then exits as for the job's end.
            return job.state().isFinal()
                    ? stops + ", after job " + jobId + " " + STOPPING_ENDED + job.state() + message + "\n"
                    : stops + " while job " + jobId + " is " + job.state() + message + "; follow again once the server"
                            + " runs (buildhook logs -f " + jobId + ")\n";
        }

        @Override
        public String ending() {
            JobDetail detail = seen;
            if (!state || detail == null) {
                return null;
            }
            // The attempt ended and the job went on (a retry; an attempt cut short by a stop, or whose node died and
            // that another node, or this one at its start, recorded interrupted): said here, where the follow of it
            // ends, whatever came next, the job's end too (tryout41 F13: after a node's death the job's next attempt
            // already ran when the command looked, and it went on into its log without a word).
            JobAttempt ended = attemptEnded;
            Integer next = ended == null ? null : detail.attempts().stream().map(JobAttempt::attempt)
                    .filter(n -> n > ended.attempt()).min(Integer::compare).orElse(null);
            if (next == null && detail.job().state().isFinal()) {
                return endLine(jobId, detail) + "\n";
            }
            // After the stop's line, which said the job's state and to follow again once the server runs, the last:
            // "the log of its next attempt follows" would not be true of this follow (ci48: an attempt cut short by
            // the stop of a WAR's server ended its follow with both, the stop's line first).
            if (ended == null || stopSaid) {
                return null;
            }
            return FollowEndLine.attemptEnded(jobId, ended.attempt(), ended.outcome().name(), ended.message(),
                    detail.job().state().name(), detail.job().message(), next) + "\n";
        }

        @Override
        public byte[] next() throws IOException {
            if (note != null) {
                byte[] n = note;
                note = null;
                return n;
            }
            if (channel != null) {
                ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(16 * 1024, Math.max(0, channel.size() - position)));
                int n = buffer.capacity() == 0 ? 0 : channel.read(buffer, position);
                if (n > 0) {
                    position += n;
                    return java.util.Arrays.copyOf(buffer.array(), n);
                }
                if (endedAtLook && !checkedReplaced) {
                    checkedReplaced = true;
                    if (goOnInTruncatedLog()) {
                        return next();
                    }
                }
            }
            // Everything written before the look was sent: an attempt that had ended then is complete.
            over = endedAtLook;
            return null;
        }

        /**
         * Once the attempt has ended, a log that passed its cap has been replaced by head, a
         * {@code log truncated} line and tail ({@code CappedLog}), while this follow read the live file,
         * which stopped at the cap: go on in the new one after what was sent, saying how much was
         * dropped, instead of at the same offset in other bytes. Returns whether it switched.
         */
        private boolean goOnInTruncatedLog() throws IOException {
            Object now = fileKey(path);
            if (now == null || now.equals(fileKey)) {
                return false;
            }
            FileChannel replaced = openQuietly(path);
            if (replaced == null) {
                return false;
            }
            Truncation t = Truncation.find(replaced);
            if (t == null) {
                replaced.close();
                return false;
            }
            FileChannel old = channel;
            channel = replaced;
            old.close();
            long tailStart = t.head() + t.dropped(); // where the kept tail began in the job's output
            if (position <= t.head()) {
                return true; // the head is the same bytes: read on, the line included
            }
            if (tailStart > position) {
                note = ("\n[buildhook] log truncated: " + (tailStart - position) + " bytes dropped here (log cap "
                        + t.cap() + " bytes; what follows is the last " + t.tail() + " bytes)\n")
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
                position = t.end();
            } else {
                position = t.end() + (position - tailStart);
            }
            return true;
        }

        @Override
        public boolean ended() {
            return over;
        }

        @Override
        public void close() throws IOException {
            FileChannel c = channel;
            if (c != null) {
                c.close();
            }
        }
    }

    /** The file's identity (device and inode), or null when it is missing or the file system has none. */
    private static Object fileKey(Path file) throws IOException {
        try {
            return Files.readAttributes(file, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * The {@code log truncated} line of a log past its cap, where its head ends: {@code head} bytes of
     * output, the line up to {@code end}, then the last {@code tail} bytes, {@code dropped} between.
     */
    record Truncation(long head, long end, long dropped, long cap, long tail) {

        private static final Pattern LINE = Pattern.compile("\n\\[buildhook\\] log truncated: (\\d{1,18}) bytes dropped here"
                + " \\(log cap (\\d{1,18}) bytes; the first (\\d{1,18}) and the last (\\d{1,18}) bytes are kept\\)\n");

        /** The line where the head ends in {@code log} (the head is at most 8 KiB), or null. */
        static Truncation find(FileChannel log) throws IOException {
            ByteBuffer start = ByteBuffer.allocate((int) Math.min(log.size(), 8 * 1024 + 512));
            while (start.hasRemaining()) {
                if (log.read(start, start.position()) < 0) {
                    break;
                }
            }
            // Latin-1 maps each byte to one char, so indexes are byte offsets whatever the output's encoding.
            String text = new String(start.array(), 0, start.position(), java.nio.charset.StandardCharsets.ISO_8859_1);
            Matcher m = LINE.matcher(text);
            while (m.find()) {
                long head = Long.parseLong(m.group(3));
                long tail = Long.parseLong(m.group(4));
                if (m.start() == head && log.size() == m.end() + tail) {
                    return new Truncation(head, m.end(), Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), tail);
                }
            }
            return null;
        }
    }

    private static FileChannel openQuietly(Path file) throws IOException {
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            return null; // not created yet: the next poll tries again
        }
    }

    /** Copies [from, to) of the file; returns where it stopped. */
    private static long copy(FileChannel channel, long from, long to, OutputStream out) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        long position = from;
        while (position < to) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), to - position));
            int n = channel.read(buffer, position);
            if (n <= 0) {
                break;
            }
            out.write(buffer.array(), 0, n);
            position += n;
        }
        return position;
    }

    private static Optional<JobAttempt> attempt(JobDetail job, Integer wanted) {
        List<JobAttempt> attempts = job.attempts();
        if (wanted == null) {
            return attempts.isEmpty() ? Optional.empty() : Optional.of(attempts.get(attempts.size() - 1));
        }
        return attempts.stream().filter(a -> a.attempt() == wanted).findFirst();
    }

    /**
     * Where this node reads the attempt's log: {@code <runner.log-dir>/<job id>/attempt-N.log}, the name its
     * launcher writes it by (made from the job id and attempt number only), whether the attempt runs or ended,
     * first, and the path the store recorded only when that file is missing ({@link JobLogs#toRead}: a
     * runner.log-dir changed without moving the older logs); the recorded one names the log folder of the
     * installation that ran it, which a moved data folder or a restored copy no longer is (tryout26 F3). An
     * attempt of another node of a cluster writes on that node's disk: it is found here only when the nodes
     * share the log directory. Null when the job id could not name a folder.
     */
    private Path logFile(String jobId, JobAttempt attempt) {
        return JobLogs.toRead(logs, jobId, attempt.attempt(), attempt.logPath());
    }

    /**
     * The attempt as this node shows it: its recorded log path (if any) replaced by where this node reads its
     * log ({@link JobLogs#toRead}), so that what is read from the log for it ({@link LogCut}) is read there.
     */
    static JobAttempt here(JobAttempt a, JobLogs logs) {
        if (a.logPath() == null) {
            return a;
        }
        Path file = JobLogs.toRead(logs, a.jobId(), a.attempt(), a.logPath());
        return new JobAttempt(a.jobId(), a.attempt(), a.outcome(), a.exitCode(), a.startedAt(), a.endedAt(), a.node(),
                file == null ? null : file.toString(), a.message(), a.units());
    }

    /** {@code [first, last]} inclusive, or null when unsatisfiable. Only a single range is served. */
    static long[] range(String header, long size) {
        Matcher m = RANGE.matcher(header.strip());
        if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
            throw ApiError.badRequest("Range must be a single 'bytes=first-last', 'bytes=first-' or 'bytes=-suffix'");
        }
        try {
            if (m.group(1).isEmpty()) {
                long suffix = Long.parseLong(m.group(2));
                return suffix == 0 || size == 0 ? null : new long[] {Math.max(0, size - suffix), size - 1};
            }
            long first = Long.parseLong(m.group(1));
            long last = m.group(2).isEmpty() ? size - 1 : Math.min(Long.parseLong(m.group(2)), size - 1);
            return first >= size || last < first ? null : new long[] {first, last};
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("Range numbers are too large");
        }
    }
}
