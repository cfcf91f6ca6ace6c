package org.buildhook.distribution;

import org.buildhook.servlet.BuildInfo;
import picocli.CommandLine;

/**
 * {@code --version}: the version and the git commit written into the build ({@link BuildInfo}), e.g.
 * {@code buildhook 1.0.0 (commit 0123abcd)}, {@code -dirty} after the id when the tree had changes not
 * committed, {@code unknown} for a build from sources without git; then the Java that runs it.
 */
final class VersionProvider implements CommandLine.IVersionProvider {

    @Override
    public String[] getVersion() {
        return new String[] {
            "buildhook " + BuildInfo.describe(),
            "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vendor") + ")"
        };
    }
}
