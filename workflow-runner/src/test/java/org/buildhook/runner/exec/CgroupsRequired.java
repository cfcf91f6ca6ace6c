package org.buildhook.runner.exec;

import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * For a test of attempts' cgroups ({@link AttemptCgroups}): skipped where this JVM cannot make them (not root, no
 * cgroup v2, a read-only cgroup file system), but failed under {@code CI=true} as root, where they must work (this
 * project's machines run the tests as root with a cgroup v2 hierarchy: a test that skipped there would prove nothing).
 */
public final class CgroupsRequired {

    private CgroupsRequired() {
    }

    /** Returns when attempts get cgroups here; else fails (CI, root) or skips the test. */
    public static void require() {
        String why = AttemptCgroups.whyNot();
        if (why != null && "true".equals(System.getenv("CI")) && "root".equals(System.getProperty("user.name"))) {
            fail("CI=true and root, yet attempts get no cgroups of their own here: " + why);
        }
        assumeTrue(why == null, () -> "attempts get no cgroups here: " + why);
    }
}
