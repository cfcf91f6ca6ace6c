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
            if (workdirProblem.isPresent()) {
                out.add(problem(source, action.workdirAt(), rule, workdirProblem.get()));
                continue; // the program is looked for from the workdir
            }
            String program = action.command().get(0).written();
            ProgramCheck.programProblem(program, searchPath, workdir)
                    .ifPresent(p -> out.add(problem(source, action.programAt(), rule, p)));
        }
        return out;
    }

    private static Problem problem(Path source, YamlNode.Location at, Rule rule, String message) {
        return new Problem(source.toString(), at == null ? 0 : at.line(), at == null ? 0 : at.column(),
                "rule '" + rule.name() + "': " + message);
    }
}
