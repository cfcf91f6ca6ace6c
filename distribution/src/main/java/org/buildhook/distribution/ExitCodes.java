package org.buildhook.distribution;

/**
 * Exit codes of every {@code buildhook} command, documented in docs/operations.md and in {@code --help}.
 */
public final class ExitCodes {

    /** The command did what it was asked. */
    public static final int OK = 0;
    /** The command ran but the answer is "no": a check found errors, a send was not accepted. */
    public static final int FAILED = 1;
    /** Wrong usage: unknown option, missing argument (picocli's own code). */
    public static final int USAGE = 2;
    /** A file could not be read, a server could not be reached, the configuration is invalid. */
    public static final int UNAVAILABLE = 3;
    /**
     * {@code serve} only: the configuration or its rules file has mistakes (what {@code check} exits {@link #FAILED}
     * for), which no restart mends. 78 is {@code EX_CONFIG} of BSD's sysexits.h, which systemd.exec(5)'s table of
     * process exit codes names {@code CONFIG}; the shipped systemd unit lists it in {@code RestartPreventExitStatus=},
     * so a mistake ends the service {@code failed} at once instead of a start every few seconds for ever (tryout47b
     * F7). A store that cannot be reached, a port that is taken, a folder the machine keeps buildhook from writing in,
     * a file the configuration names (or the configuration file) that is not there or cannot be read stay
     * {@link #UNAVAILABLE}: a restart may find them mended.
     */
    public static final int CONFIGURATION = 78;

    /**
     * The top-level help's line; each command's help ends with its own line, saying what each code means for
     * it (tryout30 F6: every command's said "check found errors, send not accepted", also serve's and approve's).
     */
    static final String HELP = "Exit codes: 0 ok, 1 the answer is no (each command's help says when), "
            + "2 usage error, 3 cannot read a file, reach a server or start.";

    static final String SERVE = "Exit codes: 0 stopped by a signal (SIGTERM, Ctrl-C, SIGHUP), 2 usage error, "
            + "3 the server cannot start (its store cannot be reached, its port is taken, a folder cannot be written,"
            + " a file it names is not there or cannot be read),"
            + " 78 the configuration or its rules file has mistakes (nothing a restart mends: the systemd unit does not"
            + " restart on it).";

    static final String CHECK = "Exit codes: 0 valid (warnings do not change it), 1 mistakes found, 2 usage error, "
            + "3 a file it reads (the configuration, its rules, secret or keystore file) is not there or cannot be "
            + "read, or a folder the configuration names cannot be written in (its mount or owner), each with no "
            + "mistake besides, or the store is one 'serve' would refuse (with --strict also one it cannot use now).";

    static final String TEST = "Exit codes: 0 dry run done (whether or not a rule fires), 1 the rules file has "
            + "mistakes or the payload is not a JobServ event, 2 usage error (also an endpoint the configuration "
            + "does not have), 3 a file cannot be read.";

    static final String SEND = "Exit codes: 0 accepted (2xx), 1 answered but not accepted, 2 usage error, "
            + "3 no answer at all (refused, unreachable, timed out, an untrusted certificate) or a file cannot be "
            + "read.";

    /** How every admin command's line ends: 2 and 3, which mean the same for all of them. */
    private static final String ADMIN = "2 usage error (also a filter or value the server refused: 400), "
            + "3 cannot read the token or reach the server (also: another program answered there, or no address is"
            + " known), or the server refused the token (401).";

    /** The list commands: deliveries, jobs, actions, refused-builds, nodes. */
    static final String LIST = "Exit codes: 0 done, 1 the admin API is off on that server (404), " + ADMIN;

    static final String JOB_SHOW = "Exit codes: 0 done, 1 no such job (404), " + ADMIN;

    static final String LOGS = "Exit codes: 0 done (with -f: the job SUCCEEDED), 1 no such job or attempt, no log "
            + "for a job that never ran (404), the log is on another node of a cluster (421), or with -f the job "
            + "did not succeed, " + ADMIN + " With -f also 3 when the server could not read its store.";

    static final String CANCEL = "Exit codes: 0 cancelled, or the job had already ended (nothing to cancel): with "
            + "several ids, each of them; with --delivery, each of its jobs not ended was cancelled (or it had none), "
            + "1 no such job (404): with several ids, one or more of them (the others were still cancelled), with "
            + "--delivery no such delivery, or a server older than --delivery, " + ADMIN + " With several ids, a 3 or a "
            + "2 stops at that id: the ids after it are not asked (standard error names them).";

    static final String APPROVE = "Exit codes: 0 approved, 1 no such job (404) or it is not awaiting an approval "
            + "(409: decided already, expired, superseded or cancelled), or asked whether to approve a job whose rule"
            + " is not in force, the answer was not y, " + ADMIN;

    static final String REJECT = "Exit codes: 0 rejected, 1 no such job (404) or it is not awaiting an approval "
            + "(409: decided already, expired, superseded or cancelled), " + ADMIN;

    static final String RERUN = "Exit codes: 0 queued (the new job's id is printed), 1 no such job (404), or asked"
            + " whether to re-run an older build over a newer one, the answer was not y, " + ADMIN;

    static final String REPLAY = "Exit codes: 0 queued, also when no rule in force fires for the delivery (\"0 job(s)"
            + " queued\"; --json: \"jobs\":[]), 1 no such delivery (404), a delivery that was not accepted (a duplicate or"
            + " a rejected body: nothing to replay) or a --rule that does not match it (409), or asked whether to replay an older build over a newer one, the answer was not y, "
            + ADMIN + " A --rule not in force is a 400.";

    static final String NODES_FORGET = "Exit codes: 0 forgotten, 1 no such node (404) or the forget was refused "
            + "(409: the answer says why and what to do), " + ADMIN;

    static final String STATUS = "Exit codes: 0 its /healthz says ok, 1 it says anything else (degraded, unavailable,"
            + " starting, stopping) or the admin API is off on that server (404), " + ADMIN;

    private ExitCodes() {
    }
}
