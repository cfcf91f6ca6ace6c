package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code check}'s warnings about this machine: every one of a rule at once. */
class MachineCheckTest {

    @TempDir
    Path dir;

    /**
     * tryout47b F16: a missing workdir hid a misspelt program, so a deploy was fixed in two rounds (each a failed job
     * and a page on a live server). Both are said at once, and the program's nearest name in its folder.
     */
    @Test
    void aMissingWorkdirDoesNotHideAMisspeltProgramWhichGetsItsFoldersNearestName() throws Exception {
        Path deploy = Files.writeString(dir.resolve("deploy.sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(deploy, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path missing = dir.resolve("nonexistent");
        RuleSet rules = TestRules.parse("rules:\n  - name: typo\n    run:\n      command: [" + dir.resolve("deplyo.sh")
                + ", \"${build.id}\"]\n      workdir: " + missing + "\n"
                + "  - name: relative\n    run:\n      command: [bin/run.sh]\n      workdir: " + missing + "\n");

        List<String> warnings = rules.machineWarnings(dir, "/usr/bin:/bin").stream().map(Problem::toString).toList();

        assertThat(warnings).hasSize(3);
        assertThat(warnings.get(0)).contains(":5:16: rule 'typo': working directory does not exist on this machine: "
                + missing);
        assertThat(warnings.get(1)).contains(":4:17: rule 'typo': executable not found: " + dir.resolve("deplyo.sh")
                + " (did you mean '" + deploy + "'?)");
        assertThat(warnings.get(2)).as("a relative program is looked for from the workdir: only the workdir is said")
                .contains("rule 'relative': working directory does not exist");
    }
}
