package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Which build runs: the version and the commit Maven wrote into build.properties (tryout18 F5). */
class BuildInfoTest {

    @Test
    void thisBuildNamesItsVersionAndTheCommitOfItsSourceTree() {
        assertThat(BuildInfo.version()).matches("[0-9][^ ]*");
        // Built from a git tree (this checkout): the short id, -dirty when it had changes.
        if (Files.exists(Path.of("..", ".git"))) {
            assertThat(BuildInfo.revision()).matches("[0-9a-f]{8}(-dirty)?");
        }
        assertThat(BuildInfo.describe()).isEqualTo(BuildInfo.version() + " (commit " + BuildInfo.revision() + ")");
    }

    /**
     * The commit named is the one of the tree these sources were built in, also in a linked worktree
     * ({@code git worktree add}): the plugin used to resolve the worktree's {@code .git} file to the main
     * repository and run git there, naming the main checkout's HEAD (tryout24 F4, tryout20 F3).
     */
    @Test
    void theCommitIsTheOneOfThisSourceTreeAlsoInALinkedWorktree() throws Exception {
        String head = gitHead();
        assumeTrue(head != null, "not built from a git tree (or no git command): nothing to compare");
        String revision = BuildInfo.revision().replace("-dirty", "");
        assertThat(head).as("git rev-parse HEAD in %s", Path.of("").toAbsolutePath()).startsWith(revision);
    }

    /** {@code git rev-parse HEAD} run in this module (a real child process, no shell); null without git. */
    private static String gitHead() throws InterruptedException {
        try {
            Process git = new ProcessBuilder("git", "rev-parse", "HEAD").redirectErrorStream(true).start();
            git.getOutputStream().close();
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!git.waitFor(5, TimeUnit.MINUTES) || git.exitValue() != 0 || !out.matches("[0-9a-f]{40,64}")) {
                return null;
            }
            return out;
        } catch (IOException noGit) {
            return null;
        }
    }

    @Test
    void aTreeWithChangesNotCommittedIsDirty() {
        assertThat(BuildInfo.revision(props("0123abcd", "true"))).isEqualTo("0123abcd-dirty");
        assertThat(BuildInfo.revision(props("0123abcd", "false"))).isEqualTo("0123abcd");
    }

    @Test
    void sourcesWithoutGitSayUnknownNotAPlaceholder() {
        // What resource filtering leaves when git-commit-id found no .git (a tarball of the sources).
        assertThat(BuildInfo.revision(props("${git.commit.id.abbrev}", "${git.dirty}"))).isEqualTo("unknown");
        assertThat(BuildInfo.revision(new Properties())).isEqualTo("unknown");
    }

    private static Properties props(String revision, String dirty) {
        Properties p = new Properties();
        p.setProperty("revision", revision);
        p.setProperty("dirty", dirty);
        return p;
    }
}
