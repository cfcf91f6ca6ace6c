package org.buildhook.distribution;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import java.util.LinkedHashMap;
import java.util.Map;
import org.buildhook.core.LogSafe;
import org.buildhook.servlet.FollowEndLine;
import org.buildhook.servlet.FollowMarks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code buildhook logs}: print a job attempt's log (the last attempt unless --attempt); -f follows the job through
 * its retries until it ends (with --attempt, that attempt until it ends).
 */
@Command(
        name = "logs",
        mixinStandardHelpOptions = true,
        // The first paragraph alone is the line in 'buildhook --help': a whole sentence.
        description = {"Print a job attempt's log (the last attempt unless --attempt).",
            "With -f, follow the job to its end, through its retries (with --attempt: that attempt only), then print"
                    + " the job's state and exit 1 unless it SUCCEEDED (failed, timed out, cancelled; with --attempt, also"
                    + " queued for a retry); exit 3 if the server stopped the follow because it could not read its store."},
        footer = {
            "",
            "Examples:",
            "  buildhook logs 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook logs 01JD8Q4B2C7N1E5V9W0X3Y6Z8K --attempt 1",
            "  buildhook logs -f 01JD8Q4B2C7N1E5V9W0X3Y6Z8K",
            "  buildhook logs --raw 01JD8Q4B2C7N1E5V9W0X3Y6Z8K | less -R",
            "",
            ExitCodes.LOGS
        })
final class LogsCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    /** What {@code logs --help} says of {@code --json}, {@link AdminOptions}' option of every admin command. */
    static final String JSON_HELP = "Changes nothing here (every admin command takes it): the API answers a log"
            + " as text, not JSON, and it is printed as without --json.";

    /**
     * {@code logs}' own help line for {@code --json} in {@code cl} (the top command): {@link AdminOptions}'
     * "Print the API's JSON answer instead of a table" is untrue of a log (tryout28 F6). The option stays
     * (scripts give it to every command) and still sets the same field.
     */
    static void describeJson(picocli.CommandLine cl) {
        CommandSpec logs = cl.getSubcommands().get("logs").getCommandSpec();
        picocli.CommandLine.Model.OptionSpec json = logs.findOption("--json");
        logs.remove(json);
        logs.addOption(json.toBuilder().description(JSON_HELP).build());
    }

    @Mixin
    AdminOptions admin;

    @Parameters(index = "0", paramLabel = "JOB", converter = IdConverter.class, description = "The job's id.")
    String id;

    @Option(names = "--attempt", paramLabel = "N", description = "This attempt (1, 2 …) instead of the last one.")
    Integer attempt;

    @Option(names = {"-f", "--follow"},
            description = "Keep printing new output until the job ends (however long it runs, through its retries;"
                    + " with --attempt, until that attempt ends), then the job's state; exit 1 unless it SUCCEEDED.")
    boolean follow;

    @Option(names = "--raw",
            description = "Print the log as it is, escape sequences included, also to a terminal (where control"
                    + " characters other than newline and tab are otherwise shown escaped, as \\x1b).")
    boolean raw;

    /**
     * Where the log's text goes: to a terminal (and without {@code --raw}), through {@link TerminalText},
     * so that a job's escape sequences cannot set its title, clear it or move its cursor (escape27 F2);
     * to a pipe or a file, as it is. Null until {@link #call} sets it.
     */
    private TerminalText escaped;

    /**
     * What took the mark off the server's own lines of the last follow's answer ({@link FollowMarks}), which says
     * whether its last line was the server's; null when that answer had no mark (a server that does not mark them).
     */
    private FollowMarks.Unmarking marks;

    /** Whether standard output is a terminal and the log is shown escaped and marked there (no {@code --raw}). */
    private boolean onATerminal;

    /** Whether the legend was said in this follow ({@link #sayTheLegend}). */
    private boolean legendSaid;

    /** Where the log's bytes go as they came (the process's standard output), or null: its text goes to out. */
    private java.io.OutputStream bytes;

    /** What the admin API answers (503) while its store cannot be reached. */
    static final String STORE_UNAVAILABLE = "the server answered 503: the store is unavailable";

    @Override
    public Integer call() {
        try {
            return print();
        } catch (CommandFailure e) {
            if (e.exitCode() != ExitCodes.UNAVAILABLE || !e.getMessage().startsWith(STORE_UNAVAILABLE)) {
                throw e;
            }
            // tryout46 F4: during a store outage the command said only this, though the log is a file on the disk of
            // the node that runs the job, and its command may still run: where to read it meanwhile.
            throw new CommandFailure(e.getMessage() + "; meanwhile the log is a file on the disk of the node that runs"
                    + " the job: " + logFile() + (attempt == null ? " (the highest N is its latest attempt)" : "")
                    + ", e.g. tail -f it there", e.exitCode());
        }
    }

    /**
     * Where the node that runs the job writes the followed attempt's log: under the configuration's {@code
     * runner.log-dir} when this command reads a configuration, else the documented pattern.
     */
    private String logFile() {
        String name = id + "/attempt-" + (attempt == null ? "N" : attempt) + ".log";
        return admin.logDirectory().map(dir -> dir.resolve(name).toString())
                .orElse("<runner.log-dir, by default <data-dir>/logs>/" + name);
    }

    private Integer print() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("attempt", attempt);
        params.put("follow", follow ? "1" : null);
        // The follow ends with the job's state once the job has ended: no request needed after it (tryout38 F2).
        params.put("state", follow ? "1" : null);
        // The server's own lines of the follow (the end line, the stop's) marked, so that a job's output printing
        // the same cannot pass for them (follow40).
        params.put("mark", follow ? "1" : null);
        AdminClient client = admin.client();
        Integer followed = attempt;
        onATerminal = !raw && TerminalText.standardOutputIsATerminal();
        if (follow && attempt == null) {
            waitUntilItRuns(client, out);
            // Pinned: a follow taken up again after the server's time limit goes on in this attempt.
            JsonNode detail = jobDetail(client);
            JsonNode last = lastAttempt(detail, null);
            if (last != null) {
                followed = last.path("attempt").asInt();
                params.put("attempt", followed);
            }
            JsonNode before = followed != null && followed > 1 ? lastAttempt(detail, followed - 1) : null;
            if (before != null) {
                // tryout42 F8: a follow begun on attempt 2 after a node's death showed its output as if it were the
                // job's first run; a deploy that runs a second time is said first, as logs without -f says it.
                say(out, NOTE + "the log below is attempt " + followed + " of job " + id + "; " + howItEnded(before));
                out.flush();
            }
        }
        // A terminal shows the job's output escaped; a pipe or a file gets it as it is (grep, a saved log).
        escaped = onATerminal ? new TerminalText(out) : null;
        // Not escaped, the bytes go to standard output as they came (not all logs are UTF-8); their text is
        // still read, for the last line.
        bytes = escaped == null ? Main.standardOutput() : null;
        if (bytes != null) {
            out.flush();
        }
        LastLine copied = new LastLine(escaped != null ? escaped
                : bytes != null ? java.io.Writer.nullWriter() : out);
        // On a terminal, buildhook's own notes marked as on the job's page (the bytes to a pipe stay the log's).
        long printed = !follow && escaped != null ? copyMarked(client, params, copied)
                : copyAttempt(client, params, copied, followed);
        if (!follow) {
            if (printed == 0) {
                sayWhyNothingWasPrinted(client);
            } else {
                sayHowThePrintedAttemptStands(client);
            }
            return ExitCodes.OK;
        }
        JsonNode job;
        while (true) {
            // Whether the last line is the server's own: known from a server that marks its lines (mark=1), not from
            // one that does not (an older build), whose line a job's output could print too.
            boolean marking = marks != null;
            boolean theServers = marking && marks.lastLineMarked();
            FollowEndLine.Ended end = FollowEndLine.read(copied.last()).orElse(null);
            if (end != null && end.jobId().equals(id) && ended(end.state()) && theServers) {
                // The server's last line of a follow of a job that ended (state=1), already printed as the command's
                // own last line would be: the job's end, whether the server still answers or not.
                return end.state().equals("SUCCEEDED") ? ExitCodes.OK : ExitCodes.FAILED;
            }
            if (end != null && end.jobId().equals(id) && ended(end.state()) && !marking) {
                // The same from a server that does not mark its lines. A job's output may read the same: the job's
                // detail, when the server still answers, says how it stands; when it does not (stopped: its port
                // closed just after the follow), that line is taken for the job's end, whether the job ended just
                // before or during the stop (tryout38 F2, fixes38 F1: the follow then missed its last line, or
                // exited 3).
                try {
                    job = jobDetail(client).path("job");
                } catch (CommandFailure e) {
                    return end.state().equals("SUCCEEDED") ? ExitCodes.OK : ExitCodes.FAILED;
                }
                String state = job.path("state").asText();
                if (state.equals(end.state())) {
                    return state.equals("SUCCEEDED") ? ExitCodes.OK : ExitCodes.FAILED;
                }
                if (ended(state)) {
                    break;
                }
            }
            // A line that only reads like the server's, from a server that marks its own, is the job's output.
            if (copied.last().startsWith(FOLLOW_STOPPED) && (theServers || !marking)) {
                // Most likely the server's notice that it could not read its store, which said what to do;
                // but a job's own last line may read the same: only a job that has ended tells them apart.
                try {
                    job = jobDetail(client).path("job");
                } catch (CommandFailure e) {
                    // The server's graceful stop ended the follow after the job ended, and said how (tryout36 F7):
                    // its port is closed now; the line printed is the job's end, and the exit code says it.
                    java.util.regex.Matcher stopped = STOPPED_AFTER.matcher(copied.last());
                    if (stopped.find()) {
                        return stopped.group(2).equals("SUCCEEDED") ? ExitCodes.OK : ExitCodes.FAILED;
                    }
                    return ExitCodes.UNAVAILABLE;
                }
                if (!ended(job.path("state").asText())) {
                    return ExitCodes.UNAVAILABLE;
                }
                break;
            }
            // A job whose attempt failed and that will run again (a retry, or an attempt cut short by a
            // stop) has not ended: 'logs -f JOB && next' waits for the job, so its next attempt is followed
            // too. It exited 1 here, "QUEUED: exited with 1", for a job that went on to succeed (tryout15 F1).
            // The server that marks its lines said how the attempt ended as the follow's last line (attempt41).
            Integer next = attempt == null && followed != null ? waitForTheNextAttempt(client, out, followed,
                    theServers && FollowEndLine.readsAsAttemptEnded(copied.last(), id, followed)) : null;
            if (next == null) {
                job = jobDetail(client).path("job");
                break;
            }
            followed = next;
            params.put("attempt", followed);
            params.remove("from");
            copyAttempt(client, params, copied, followed);
        }
        // Following ends with how the job stands, and an exit code a script can test.
        String state = job.path("state").asText();
        say(out, FollowEndLine.of(id, state, job.path("message").asText(""), job.path("attempts").asInt(),
                job.path("interruptedAttempts").asInt(0), job.path("notStartedAttempts").asInt(0)));
        out.flush();
        return state.equals("SUCCEEDED") ? ExitCodes.OK : ExitCodes.FAILED;
    }

    /**
     * An attempt that wrote nothing printed nothing, and {@code logs JOB} exited 0 with no word: for a job
     * that failed to start (a full data disk: "cannot write the payload file …") or failed silently, the
     * reason was in {@code job show} only, and an earlier attempt's output, the one worth reading, was
     * not pointed to (tryout17). Says, on standard error (standard output stays the log), how the
     * attempt ended (or that it still runs) and which earlier attempts there are. Nothing when the job
     * cannot be read now.
     */
    private void sayWhyNothingWasPrinted(AdminClient client) {
        JsonNode detail;
        try {
            detail = jobDetail(client);
        } catch (CommandFailure e) {
            return;
        }
        JsonNode shown = lastAttempt(detail, attempt);
        if (shown == null) {
            return;
        }
        int number = shown.path("attempt").asInt();
        String outcome = shown.path("outcome").asText();
        String message = LogSafe.escapeMessage(shown.path("message").asText(""));
        PrintWriter err = spec.commandLine().getErr();
        // One still running has not ended: said as such, with how to follow it (review17).
        String how = outcome.equals("RUNNING")
                ? " has written no output yet; it is RUNNING (buildhook logs -f " + id + " follows it)"
                : " wrote no output; it is " + outcome + (message.isEmpty() ? "" : ": " + message);
        err.println(NOTE + "attempt " + number + " of job " + id + how
                + (number > 1 ? " (earlier attempts: buildhook logs " + id + " --attempt " + (number - 1)
                        + (number > 2 ? ", … --attempt 1" : "") + ")" : ""));
        err.flush();
    }

    /**
     * The last attempt's output, of a job that ran more than once, read as if it were all the job did: a
     * step of a workflow cut short by a stop and run again showed only the second run's output, with no
     * word of the first (tryout18). Says, on standard error, which attempt was printed and how the one
     * before it ended, with the command that prints it; and that the printed attempt still runs, when it does, the
     * output being its log so far (tryout39 F3). Nothing else for a job of one attempt, or one that cannot be read
     * now.
     */
    private void sayHowThePrintedAttemptStands(AdminClient client) {
        JsonNode detail;
        try {
            detail = jobDetail(client);
        } catch (CommandFailure e) {
            return;
        }
        JsonNode shown = lastAttempt(detail, attempt);
        int number = shown == null ? 0 : shown.path("attempt").asInt();
        PrintWriter err = spec.commandLine().getErr();
        if (shown != null && shown.path("outcome").asText().equals("RUNNING")) {
            // tryout39 F3: the log so far of an attempt that still runs read as a job that had stopped there.
            err.println(NOTE + "attempt " + number + " of job " + id + " is RUNNING: the output above is its log so"
                    + " far (buildhook logs -f " + id + " follows it)");
            err.flush();
        }
        JsonNode before = attempt == null && number > 1 ? lastAttempt(detail, number - 1) : null;
        if (before == null) {
            return;
        }
        err.println(NOTE + "the output above is attempt " + number + " of job " + id + "; " + howItEnded(before));
        err.flush();
    }

    /**
     * How an attempt of the API's answer ended, for a line that says which attempt is shown: {@code attempt 1 ended
     * INTERRUPTED: MESSAGE (buildhook logs J --attempt 1)}; one whose node ended it before it ran the command, {@code
     * attempt 1 never started its command: MESSAGE}, without the command that prints its log, which it has none of
     * (tryout42 F10: it read as a run cut short).
     */
    private String howItEnded(JsonNode attempt) {
        int number = attempt.path("attempt").asInt();
        String message = LogSafe.escapeMessage(attempt.path("message").asText(""));
        if (attempt.path("neverStarted").asBoolean(false)) {
            // Its message begins "not started: ", said once.
            String why = message.startsWith(NOT_STARTED) ? message.substring(NOT_STARTED.length()) : message;
            return "attempt " + number + " never started its command" + (why.isEmpty() ? "" : ": " + why);
        }
        return "attempt " + number + " ended " + attempt.path("outcome").asText() + (message.isEmpty() ? ""
                : ": " + message) + " (buildhook logs " + id + " --attempt " + number + ")";
    }

    /**
     * Prints the attempt's log to the terminal page by page ({@code ?notes=1}), each note's line after {@link
     * TerminalNotes#NOTE} and each line of the command that reads like one after {@link
     * TerminalNotes#PRINTED_BY_THE_COMMAND}; then, when a line was marked, what the marks mean (on standard error).
     * Returns the bytes printed.
     */
    private long copyMarked(AdminClient client, Map<String, Object> params, LastLine copied) {
        TerminalNotes notes = new TerminalNotes(copied);
        long printed = 0;
        try {
            while (true) {
                Map<String, Object> page = new LinkedHashMap<>(params);
                page.put("notes", "1");
                page.put("from", printed == 0 ? null : printed);
                AdminClient.LogPage answer = client.logPage(AdminClient.withQuery("jobs/" + id + "/log", page));
                notes.write(printed, answer.bytes(), answer.notes());
                printed += answer.bytes().length;
                // An older server answers the whole log, without the header; an empty page is the log's end.
                if (answer.notes() == null || answer.bytes().length == 0) {
                    break;
                }
            }
            notes.end();
            escaped.end();
        } catch (java.io.IOException e) {
            // A PrintWriter's: it never throws.
        }
        if (notes.marked()) {
            PrintWriter err = spec.commandLine().getErr();
            err.println(LEGEND);
            err.flush();
        }
        return printed;
    }

    /**
     * Prints the attempt's log; with -f, follows it until the attempt ends (on a terminal, with buildhook's notes
     * marked: {@link FollowedNotes}). Returns the bytes printed.
     */
    private long copyAttempt(AdminClient client, Map<String, Object> params, LastLine copied, Integer followed) {
        FollowedNotes marking = follow && escaped != null ? followedNotes(client, params, copied) : null;
        boolean whole = false;
        try {
            long printed = copyAttempt(client, params, copied, followed, marking);
            whole = true;
            return printed;
        } finally {
            if (marking != null) {
                try {
                    // An answer cut in the middle (the server went away): a line it held may be cut too.
                    marking.end(!whole);
                } catch (java.io.IOException e) {
                    // A PrintWriter's: it never throws.
                }
            }
        }
    }

    /**
     * What shows a followed attempt's log on the terminal with its notes marked, asking the server ({@code
     * ?notes=1&from=N&length=M}) about each line that begins like a note; the legend goes to standard error at the
     * first mark.
     */
    private FollowedNotes followedNotes(AdminClient client, Map<String, Object> params, LastLine copied) {
        Object followedAttempt = params.get("attempt");
        Object from = params.get("from");
        FollowedNotes.Pages pages = (start, length) -> {
            Map<String, Object> page = new LinkedHashMap<>();
            page.put("attempt", followedAttempt);
            page.put("notes", "1");
            page.put("from", start);
            page.put("length", length);
            return client.logPage(AdminClient.withQuery("jobs/" + id + "/log", page));
        };
        return new FollowedNotes(copied, escaped, from instanceof Number n ? n.longValue() : 0, pages,
                this::sayTheLegend, this::sayWhatADoubtfulLineIs);
    }

    /**
     * Says once (standard error, after the legend) what {@link TerminalNotes#MAY_BE_THE_COMMANDS} means: the server
     * could not say whether it wrote the line (tryout42 F13).
     */
    private void sayWhatADoubtfulLineIs() {
        PrintWriter err = spec.commandLine().getErr();
        err.println(doubt(id));
        err.flush();
    }

    /** Says once what the marks mean (standard error), before the first marked line of a follow. */
    private void sayTheLegend() {
        if (!legendSaid) {
            legendSaid = true;
            PrintWriter err = spec.commandLine().getErr();
            err.println(LEGEND);
            err.flush();
        }
    }

    /**
     * Prints a line of this command's own in a follow's output: on a terminal marked as buildhook's note (the legend
     * first, once), as the server's own lines of the follow are, so that an unmarked {@code [buildhook] } line there
     * is never buildhook's (tryout41 F1, F7); to a pipe or a file as it is.
     */
    private void say(PrintWriter out, String line) {
        if (onATerminal && follow) {
            out.flush();
            sayTheLegend();
            out.print(TerminalNotes.NOTE);
        }
        out.println(line);
    }

    /** What the marks of a log on a terminal mean (standard error), itself marked as buildhook's. */
    private static final String LEGEND = TerminalNotes.NOTE + "[buildhook] lines marked " + TerminalNotes.NOTE.strip()
            + " are buildhook's own notes; a line marked " + TerminalNotes.PRINTED_BY_THE_COMMAND.strip()
            + " was printed by the job's command, though it begins as they do";

    /**
     * What {@link TerminalNotes#MAY_BE_THE_COMMANDS} means (standard error), itself marked as buildhook's, for job
     * {@code id}.
     */
    static String doubt(String id) {
        return TerminalNotes.NOTE + "[buildhook] a line marked " + TerminalNotes.MAY_BE_THE_COMMANDS.strip()
                + " begins as buildhook's notes do, but the server did not say whether it wrote it (it was stopping or"
                + " went away before it answered, or cannot tell): the job's command may have printed it; how the job"
                + " stands is what buildhook job show " + id + " says once the server answers";
    }

    private long copyAttempt(AdminClient client, Map<String, Object> params, LastLine copied, Integer followed,
            FollowedNotes marking) {
        java.io.Writer text = marking != null ? java.io.Writer.nullWriter() : copied;
        java.io.OutputStream raw = marking != null ? marking : bytes;
        long began = System.nanoTime();
        long printed;
        try {
            printed = client.copy(AdminClient.withQuery("jobs/" + id + "/log", params), text, raw, m -> marks = m);
        } catch (CommandFailure cut) {
            if (!saidItsLastLine(copied)) {
                throw cut;
            }
            // The server's stop said how the follow ends, as its own last line, and its connection was then closed
            // before the answer's end came (its stop under load): nothing is missing, and "the connection ended while
            // reading" after that line read as a second, other end (ci47-c). The line decides, as for an answer that
            // ended whole.
            printed = 0;
        }
        // One follow lasts at most the server's limit (10 minutes): a job that runs longer is followed
        // again from where the last one stopped, in the same attempt, so 'logs -f JOB && next' waits for
        // the job's end, not for the limit (it printed the job as RUNNING and exited 1).
        // A follow the server ended at once (a note that the log is on another node) is not taken up again; from a
        // server that marks its lines, a job's own line that begins as the note does is no such end (follow40).
        while (follow && followed != null
                && !(copied.last().startsWith(NOTE) && (marks == null || marks.lastLineMarked()))
                && System.nanoTime() - began > MIN_FOLLOW.toNanos()) {
            JsonNode detail = jobDetail(client);
            JsonNode last = lastAttempt(detail, followed);
            if (last == null || attemptEnded(last) || ended(detail.path("job").path("state").asText())) {
                break;
            }
            params.put("from", printed);
            began = System.nanoTime();
            printed += client.copy(AdminClient.withQuery("jobs/" + id + "/log", params), text, raw, m -> marks = m);
        }
        if (escaped != null) {
            try {
                escaped.end();
            } catch (java.io.IOException e) {
                // A PrintWriter's: it never throws.
            }
        }
        return printed;
    }

    /**
     * Whether the last line copied is the server's own line that ends a follow because it stops ({@link #FOLLOW_STOPPED},
     * marked as the server's): after it, the connection's end carries no news.
     */
    private boolean saidItsLastLine(LastLine copied) {
        return marks != null && marks.lastLineMarked() && copied.last().startsWith(FOLLOW_STOPPED);
    }

    /**
     * After attempt {@code followed} ended, the number of the job's next attempt once it has one (asked
     * every second, as for a job that has not started), saying first that the job goes on; null when the
     * job has ended, or when that attempt has not ended (its log is on another node: the follow ended at
     * once, and the job is printed as it stands). {@code said}: the server's follow already said that the attempt
     * ended, and what comes next, as its last line.
     */
    private Integer waitForTheNextAttempt(AdminClient client, PrintWriter out, int followed, boolean said) {
        JsonNode detail = jobDetail(client);
        JsonNode done = lastAttempt(detail, followed);
        if (done == null || !attemptEnded(done)) {
            return null;
        }
        while (true) {
            JsonNode job = detail.path("job");
            JsonNode last = lastAttempt(detail, null);
            if (last != null && last.path("attempt").asInt() > followed) {
                return last.path("attempt").asInt();
            }
            if (ended(job.path("state").asText())) {
                return null;
            }
            if (!said) {
                // From a server that does not write it (an older build): the same line.
                say(out, FollowEndLine.attemptEnded(id, followed, done.path("outcome").asText(),
                        done.path("message").asText(""), job.path("state").asText(), job.path("message").asText(""),
                        null));
                out.flush();
                said = true;
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            detail = jobDetail(client);
        }
    }

    /**
     * Whether an attempt of the API's answer has ended: its {@code endedAt}, or, for one whose end nobody
     * recorded (its node died on another host: {@code endedAt} null), an outcome other than {@code RUNNING}.
     */
    static boolean attemptEnded(JsonNode attempt) {
        return !attempt.path("endedAt").isNull() || !attempt.path("outcome").asText("RUNNING").equals("RUNNING");
    }

    /**
     * Until the job has an attempt (or has ended), asks for its state every second with short
     * requests instead of holding a follow request open: a follow request finds out that its client
     * went away (Ctrl-C) only when it has output to write, so one opened on a job that waits for an
     * approval for hours held a request thread of the server, and delayed its graceful stop, long
     * after the command was gone.
     */
    private void waitUntilItRuns(AdminClient client, PrintWriter out) {
        JsonNode job = jobDetail(client).path("job");
        sayWhatItWaitsFor(job, out);
        while (job.path("attempts").asInt() == 0 && !ended(job.path("state").asText())) {
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            job = jobDetail(client).path("job");
        }
    }

    /** The attempt {@code wanted} of the job's detail, or its last one when null; null when it has none. */
    private static JsonNode lastAttempt(JsonNode detail, Integer wanted) {
        JsonNode found = null;
        for (JsonNode a : detail.path("attempts")) {
            if (wanted == null || a.path("attempt").asInt() == wanted) {
                found = a;
            }
        }
        return found;
    }

    /** How the server's own lines in a log begin. */
    private static final String NOTE = "[buildhook] ";

    /** How the message of an attempt that never started its command begins (the store's JobAttempt.NOT_STARTED). */
    private static final String NOT_STARTED = org.buildhook.runner.store.JobAttempt.NOT_STARTED;

    /** A follow shorter than this ended for a reason other than the server's time limit. */
    private static final java.time.Duration MIN_FOLLOW = java.time.Duration.ofSeconds(1);

    /** How the server's last line of a follow it stopped on an error begins (its LogFollows.STOPPED). */
    static final String FOLLOW_STOPPED = "[buildhook] the log follow stopped: ";
    /** The server's last line of a follow its graceful stop ended after the job ended (JobLogSender). */
    private static final java.util.regex.Pattern STOPPED_AFTER = java.util.regex.Pattern.compile(
            "^\\[buildhook\\] the log follow stopped: the server is stopping \\(graceful stop\\), after job (\\S+) ended"
                    + " ([A-Z_]+)");

    /** How often a job that has not started is asked for its state. */
    private static final java.time.Duration POLL = java.time.Duration.ofSeconds(1);

    /** Whether a job in {@code state} has ended; a state this version does not know counts as ended (stop asking). */
    private static boolean ended(String state) {
        try {
            return org.buildhook.runner.store.JobState.valueOf(state).isFinal();
        } catch (IllegalArgumentException e) {
            return true;
        }
    }

    /**
     * Following a job that waits for someone's approval, for units of a shared resource or for a slot of
     * its rule's concurrency, prints nothing until it runs — possibly for hours: say so first, rather
     * than look hung.
     */
    /** How the wait for a slot follows a job's own message in it (ExecutionLedger's slot wait). */
    private static final String SLOT_WAIT = "; waiting for a concurrency slot";

    private void sayWhatItWaitsFor(JsonNode job, PrintWriter out) {
        String state = job.path("state").asText();
        if (state.equals("AWAITING_APPROVAL")) {
            say(out, "[buildhook] job " + id + " awaits an approval" + (job.path("expiresAt").isTextual()
                    ? " (until " + job.path("expiresAt").asText() + ")" : "") + "; its log follows once it runs:"
                    + " buildhook approve " + id + " (or reject " + id + ")");
        } else if (state.equals("WAITING")) {
            say(out, "[buildhook] job " + id + " is "
                    + LogSafe.escapeMessage(job.path("message").asText("waiting for shared resources"))
                    + "; its log follows once it runs");
        } else if (state.equals("QUEUED") && job.path("message").asText("").startsWith("waiting for")) {
            // Held back by its rule's concurrency (tryout13 F8): as long as the jobs before it run.
            say(out, "[buildhook] job " + id + " is " + LogSafe.escapeMessage(job.path("message").asText())
                    + "; its log follows once it runs");
        } else if (state.equals("QUEUED") && job.path("message").asText("").contains(SLOT_WAIT)) {
            // The wait follows the job's own message (a retry's failure, an interruption: review14 F12).
            String message = LogSafe.escapeMessage(job.path("message").asText());
            int at = message.indexOf(SLOT_WAIT);
            say(out, "[buildhook] job " + id + " is " + message.substring(at + 2) + " (" + message.substring(0, at)
                    + "); its log follows once it runs");
        }
        out.flush();
    }

    /**
     * The job and its attempts, the only parts read here: {@code ?actions=1} keeps the answer bounded (a
     * job re-run thousands of times has thousands of actions, read again at every poll of a follow) and
     * off the deprecated unbounded form.
     */
    private JsonNode jobDetail(AdminClient client) {
        return client.get("jobs/" + id + "?actions=1");
    }
}
