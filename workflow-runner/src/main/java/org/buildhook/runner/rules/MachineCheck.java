package org.buildhook.runner.rules;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.buildhook.runner.exec.ProgramCheck;

/**
 * Checks a valid rule set against the machine it is checked on: each rule's program and working
 * directory, as a launch would find them. The results are warnings, not mistakes: the rules file is
 * right, but this machine (or this node) would fail the rule's jobs.
 */
final class MachineCheck {

    private MachineCheck() {
    }

    static List<Problem> warnings(List<Rule> rules, Path source, Path defaultWorkdir, String searchPath) {
        List<Problem> out = new ArrayList<>();
        for (Rule rule : rules) {
            Action action = rule.action();
            Path workdir = action.workdir() != null ? action.workdir() : defaultWorkdir;
            // The default (<data-dir>/work unless runner.workdir, made at start) may not exist before the first start.
            Optional<String> workdirProblem = action.workdir() == null ? Optional.empty()
                    : ProgramCheck.workdirProblem(workdir);
            workdirProblem.ifPresent(p -> out.add(problem(source, action.workdirAt(), rule, p)));
            String program = action.command().get(0).written();
            // Every warning of the rule at once (tryout47b F16: a missing workdir hid a misspelt program, fixed in two
            // rounds). Only a relative path (a/b.sh) is looked for from the workdir, so only it waits for the workdir.
            if (workdirProblem.isPresent() && !program.startsWith("/") && program.indexOf('/') >= 0) {
                continue;
            }
            ProgramCheck.programProblem(program, searchPath, workdir)
                    .ifPresent(p -> out.add(problem(source, action.programAt(), rule, p + nearestFile(program))));
        }
        return out;
    }

    /**
     * For an absolute program that is not there, the nearest name of its folder ({@code deplyo.sh} beside {@code
     * deploy.sh}): {@code " (did you mean '/opt/deploy.sh'?)"}; {@code ""} otherwise, or when the folder cannot be read.
     * At most the folder's first 1000 names are compared.
     */
    private static String nearestFile(String program) {
        if (!program.startsWith("/")) {
            return "";
        }
        Path file = Path.of(program);
        Path folder = file.getParent();
        if (folder == null || file.getFileName() == null || java.nio.file.Files.exists(file)) {
            return "";
        }
        List<String> names = new ArrayList<>();
        try (java.util.stream.Stream<Path> listed = java.nio.file.Files.list(folder)) {
            listed.limit(1000).forEach(p -> names.add(p.getFileName().toString()));
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
        return Suggestions.closest(file.getFileName().toString(), names)
                .map(n -> " (did you mean '" + folder.resolve(n) + "'?)").orElse("");
    }

    private static Problem problem(Path source, YamlNode.Location at, Rule rule, String message) {
        return new Problem(source.toString(), at == null ? 0 : at.line(), at == null ? 0 : at.column(),
                "rule '" + rule.name() + "': " + message);
    }
}
