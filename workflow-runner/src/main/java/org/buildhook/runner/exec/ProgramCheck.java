package org.buildhook.runner.exec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The checks a launch makes on the program and the working directory, offered to {@code buildhook
 * check} and {@code test} so that a program that does not exist, a script that is not executable, a
 * {@code #!} line with Windows line ends or a missing folder are reported when the rules are
 * written, not at the first delivery. The answers are about this machine: another node may differ.
 */
public final class ProgramCheck {

    private ProgramCheck() {
    }

    /**
     * @param program    the command's first element as written (absolute, relative to {@code workdir}, or
     *                   a name looked up on {@code searchPath})
     * @param searchPath the job's PATH ({@code :}-separated); may be null
     * @param workdir    the job's working directory (absolute)
     * @return why the program could not be started here, or empty when it could
     */
    public static Optional<String> programProblem(String program, String searchPath, Path workdir) {
        try {
            StartCheck.executable(program, searchPath, workdir);
            return Optional.empty();
        } catch (StartCheck.Refused e) {
            return Optional.of(e.getMessage());
        }
    }

    /** @return why {@code workdir} cannot be a job's working directory here, or empty when it can */
    public static Optional<String> workdirProblem(Path workdir) {
        if (!Files.exists(workdir)) {
            return Optional.of("working directory does not exist on this machine: " + workdir
                    + " (buildhook never creates it)");
        }
        if (!Files.isDirectory(workdir)) {
            return Optional.of("working directory is not a directory: " + workdir);
        }
        return Optional.empty();
    }
}
