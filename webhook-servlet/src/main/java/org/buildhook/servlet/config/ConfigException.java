package org.buildhook.servlet.config;

import java.util.List;
import org.buildhook.runner.rules.Problem;

/**
 * A configuration that cannot be used. Carries every {@link Problem} found, so the operator fixes
 * them all at once; the message lists them one per line, as
 * {@code buildhook.yaml:7:5: store.url: expected a jdbc:sqlite: or jdbc:postgresql: URL}.
 * Never contains a secret's value.
 */
public class ConfigException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient List<Problem> problems;
    private final transient List<Problem> ofTheMachine;
    private final transient List<Problem> notRead;

    /**
     * Mistakes of the file.
     *
     * @param problems every problem found, at least one
     * @throws IllegalArgumentException when there is none
     */
    public ConfigException(List<Problem> problems) {
        this(problems, List.of());
    }

    /**
     * Problems found in reading the file, some of them of the machine rather than the file.
     *
     * @param problems     every problem found, at least one
     * @param ofTheMachine those of {@code problems} that are no mistake of the file but of the machine it names: a
     *                     folder on a file system mounted read-only, or one the user buildhook runs as may not write
     *                     in; empty when none
     * @throws IllegalArgumentException when {@code problems} is empty
     */
    public ConfigException(List<Problem> problems, List<Problem> ofTheMachine) {
        this(problems, ofTheMachine, List.of());
    }

    /**
     * Problems found in reading the file, some of them of the machine, some files it names that could not be read.
     *
     * @param problems     every problem found, at least one
     * @param ofTheMachine as in {@link #ConfigException(List, List)}
     * @param notRead      those of {@code problems} that are a file the configuration names (or the configuration
     *                     file itself) that is not there or cannot be read; empty when none
     * @throws IllegalArgumentException when {@code problems} is empty
     */
    public ConfigException(List<Problem> problems, List<Problem> ofTheMachine, List<Problem> notRead) {
        super(Problem.lines(problems));
        this.problems = List.copyOf(problems);
        this.ofTheMachine = List.copyOf(ofTheMachine);
        this.notRead = List.copyOf(notRead);
    }

    /** One problem about the whole file (it is missing, unreadable…). */
    public static ConfigException about(String file, String message) {
        return new ConfigException(List.of(new Problem(file, 0, 0, message)));
    }

    /**
     * The configuration file {@code file} is not there or cannot be read ({@code message} says which): a problem a
     * restart may find mended, see {@link #restartMayMend()}.
     */
    public static ConfigException notRead(String file, String message) {
        Problem problem = new Problem(file, 0, 0, message);
        return new ConfigException(List.of(problem), List.of(), List.of(problem));
    }

    /**
     * Whether no problem is a mistake of the file's text: each is of the machine ({@link #ofTheMachineOnly()}) or a
     * file that is not there or cannot be read. {@code serve} then exits 3, which the systemd unit restarts, rather
     * than 78 for mistakes no restart mends (a secret file another service writes after boot, a mount that comes
     * later).
     */
    public boolean restartMayMend() {
        return problems.stream().allMatch(p -> ofTheMachine.contains(p) || notRead.contains(p));
    }

    /**
     * Whether every problem is a file the configuration names (or the configuration file itself) that is not there or
     * cannot be read: no mistake of the file's text, nor of a folder's mount or owner.
     */
    public boolean notReadOnly() {
        return problems.stream().allMatch(notRead::contains);
    }

    /** Every problem, in file order; never empty. */
    public List<Problem> problems() {
        return problems;
    }

    /**
     * Whether every problem is of the machine, not of the file (a folder the file names cannot be written: its file
     * system is mounted read-only, or its owner or mode keeps buildhook's user out): then the file is right as it
     * is, and the operator is to fix the mount or the folder, not the configuration.
     */
    public boolean ofTheMachineOnly() {
        return problems.stream().allMatch(ofTheMachine::contains);
    }

    /** How many of {@link #problems()} are of the machine, not of the file: 0 to {@code problems().size()}. */
    public int ofTheMachineCount() {
        return (int) problems.stream().filter(ofTheMachine::contains).count();
    }

    /**
     * How many of {@link #problems()} are a file the configuration names (or the configuration file itself) that is
     * not there or cannot be read: 0 to {@code problems().size()}, none of them counted in {@link #ofTheMachineCount()}.
     */
    public int notReadCount() {
        return (int) problems.stream().filter(p -> notRead.contains(p) && !ofTheMachine.contains(p)).count();
    }
}
