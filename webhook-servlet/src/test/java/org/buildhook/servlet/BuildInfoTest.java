package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
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
