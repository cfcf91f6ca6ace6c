package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the start check works out once and keeps between jobs (the inherited environment's
 * exactness, a program's {@code #!} line) gives the same refusals as checking everything again,
 * and a program changed between two jobs is checked as it is now (docs/BENCHMARKS.md, "Fifth pass:
 * CPU per delivery").
 */
class StartCheckRepeatTest {

    private static final ProcessEncoding ASCII = new ProcessEncoding(StandardCharsets.US_ASCII,
            StandardCharsets.US_ASCII);
    private static final ProcessEncoding UTF8 = new ProcessEncoding(StandardCharsets.UTF_8, StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    @Test
    void anInheritedVariableThatCannotBePassedIsNamedAtEveryJobAndBeforeTheJobsOwnLaterOnes() throws Exception {
        Map<String, String> base = Map.of("PATH", "/usr/bin:/bin", "LANGUAGE", "français");
        for (int job = 0; job < 3; job++) {
            assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of("ZZ", "ü"), dir, ASCII))
                    .hasMessageStartingWith("environment variable LANGUAGE cannot be passed exactly");
            assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of("AA", "ü"), dir, ASCII))
                    .hasMessageStartingWith("environment variable AA cannot be passed exactly");
        }
        // The job's own value replaces the inherited one: then the inherited one is not checked.
        assertThat(StartCheck.check(List.of("/bin/echo"), base, Map.of("LANGUAGE", "fr"), dir, ASCII).environment())
                .containsEntry("LANGUAGE", "fr");
    }

    @Test
    void anInheritedEnvironmentThatPassesLeavesTheJobsOwnVariablesCheckedAtEveryJob() throws Exception {
        Map<String, String> base = Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8");
        assertThat(StartCheck.check(List.of("/bin/echo"), base, Map.of("A", "b"), dir, ASCII).environment())
                .containsEntry("A", "b").containsEntry("LANG", "C.UTF-8");
        for (int job = 0; job < 3; job++) {
            assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of("B", "x", "C", "ü"), dir,
                    ASCII)).hasMessageStartingWith("environment variable C cannot be passed exactly");
            assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of("T", "\udc00"), dir, UTF8))
                    .hasMessageStartingWith("environment variable T cannot be passed exactly: it holds an unpaired");
        }
        assertThat(StartCheck.check(List.of("/bin/echo"), base, Map.of("A", "ü"), dir, UTF8).environment())
                .as("the same inherited map under another encoding").containsEntry("A", "ü");
    }

    @Test
    void aModifiableInheritedEnvironmentIsCheckedAsItIsAtEachJob() throws Exception {
        Map<String, String> base = new HashMap<>(Map.of("PATH", "/usr/bin:/bin"));
        assertThat(StartCheck.check(List.of("/bin/echo"), base, Map.of(), dir, ASCII).environment())
                .containsKey("PATH");
        base.put("NAME", "zürich");
        assertThatThrownBy(() -> StartCheck.check(List.of("/bin/echo"), base, Map.of(), dir, ASCII))
                .hasMessageStartingWith("environment variable NAME cannot be passed exactly");
    }

    @Test
    void aScriptGivenWindowsLineEndsBetweenTwoJobsIsRefusedAtTheSecond() throws Exception {
        Path script = script("#!/bin/sh\necho hello\n", settled());
        assertThat(check(script).executable()).isEqualTo(script);
        assertThat(check(script).executable()).isEqualTo(script);

        Files.writeString(script, "#!/bin/sh\r\necho hello\r\n");
        assertThatThrownBy(() -> check(script)).hasMessageStartingWith("the #! line of " + script
                + " ends with a carriage return");

        Files.writeString(script, "#!/bin/sh\necho hello\n");
        assertThat(check(script).executable()).as("fixed again").isEqualTo(script);
    }

    @Test
    void aScriptRewrittenInPlaceWithTheSameSizeAndTimeIsReadAgainWhileThatTimeIsRecent() throws Exception {
        Path script = script("#!/bin/sh\necho hello\n", null);
        FileTime written = Files.getLastModifiedTime(script);
        assertThat(check(script).executable()).isEqualTo(script);

        // Same inode, same size, same modification time: only a time too recent to go by tells.
        Files.writeString(script, "#!/bin/zz\necho hello\n");
        Files.setLastModifiedTime(script, written);
        assertThatThrownBy(() -> check(script)).hasMessage("the interpreter /bin/zz named on the #! line of " + script
                + " does not exist or is not executable on this machine");
    }

    @Test
    void aSettledScriptRewrittenInPlaceWithTheSameSizeAndItsTimeKeptIsReadAgain() throws Exception {
        // What cp -p, touch -r, rsync --inplace -t or an archive with fixed times (reproducible
        // builds) do: the content changes, the modification time is set back as it was.
        FileTime old = settled();
        Path script = script("#!/bin/sh\necho hello\n", old);
        // Old enough in every respect for its #! line to be kept (the status change time, which
        // setting the modification time made recent, too).
        await().atMost(Duration.ofSeconds(60)).until(() -> Instant.now().isAfter(
                ((FileTime) Files.getAttribute(script, "unix:ctime")).toInstant().plus(StartCheck.SETTLED)));
        assertThat(check(script).executable()).isEqualTo(script);
        assertThat(check(script).executable()).isEqualTo(script);

        Files.writeString(script, "#!/bin/zz\necho hello\n");
        Files.setLastModifiedTime(script, old);
        assertThatThrownBy(() -> check(script)).hasMessage("the interpreter /bin/zz named on the #! line of " + script
                + " does not exist or is not executable on this machine");

        Files.writeString(script, "#!/bin/sh\necho hello\n");
        Files.setLastModifiedTime(script, old);
        assertThat(check(script).executable()).as("fixed again, its time kept again").isEqualTo(script);
    }

    @Test
    void aScriptReplacedByAnotherFileWithTheSameSizeAndTimeIsReadAgain() throws Exception {
        FileTime old = settled();
        Path script = script("#!/bin/sh\necho hello\n", old);
        assertThat(check(script).executable()).isEqualTo(script);

        Path replacement = dir.resolve("new.sh");
        Files.writeString(replacement, "#!/bin/zz\necho hello\n");
        Files.setPosixFilePermissions(replacement, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setLastModifiedTime(replacement, old);
        Files.move(replacement, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertThatThrownBy(() -> check(script)).hasMessageStartingWith("the interpreter /bin/zz named on the #! line");
    }

    @Test
    void theInterpreterOfAKeptLineIsLookedForAtEveryJob() throws Exception {
        Path interpreter = dir.resolve("interpreter");
        Files.copy(Path.of("/bin/sh"), interpreter);
        Files.setPosixFilePermissions(interpreter, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path script = script("#!" + interpreter + "\necho hello\n", settled());
        assertThat(check(script).executable()).isEqualTo(script);
        assertThat(check(script).executable()).isEqualTo(script);

        Files.delete(interpreter);
        assertThatThrownBy(() -> check(script)).hasMessage("the interpreter " + interpreter + " named on the #! line"
                + " of " + script + " does not exist or is not executable on this machine");
    }

    @Test
    void aScriptThatLostItsExecutePermissionOrVanishedIsRefusedAtTheNextJob() throws Exception {
        Path script = script("#!/bin/sh\necho hello\n", settled());
        assertThat(check(script).executable()).isEqualTo(script);

        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> check(script)).hasMessageStartingWith("permission denied: " + script);

        Files.delete(script);
        assertThatThrownBy(() -> check(script)).hasMessage("executable not found: " + script);
    }

    private StartCheck.Checked check(Path script) throws StartCheck.Refused {
        return StartCheck.check(List.of(script.toString()), Map.of("PATH", "/usr/bin:/bin"), Map.of(), dir, UTF8);
    }

    /** A modification time old enough for the check to keep what it read. */
    private static FileTime settled() {
        return FileTime.from(Instant.now().minus(StartCheck.SETTLED).minusSeconds(60));
    }

    private Path script(String content, FileTime modified) throws Exception {
        Path script = dir.resolve("job.sh");
        Files.writeString(script, content);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (modified != null) {
            Files.setLastModifiedTime(script, modified);
        }
        return script;
    }
}
