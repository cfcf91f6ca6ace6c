package org.buildhook.runner.exec;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Attempts get no cgroups of their own for the tests of one class ({@code -Dbuildhook.cgroups=off}, as under the
 * shipped systemd unit, whose {@code ProtectControlGroups=yes} leaves the subreaper alone to find what a job
 * left), and are decided again after them. Use as
 * {@code @RegisterExtension static final CgroupsOff CGROUPS_OFF = new CgroupsOff();}; test classes of one JVM run
 * one after the other.
 */
final class CgroupsOff implements BeforeAllCallback, AfterAllCallback {

    @Override
    public void beforeAll(ExtensionContext context) {
        System.setProperty(AttemptCgroups.PROPERTY, "off");
        AttemptCgroups.reset();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        System.clearProperty(AttemptCgroups.PROPERTY);
        AttemptCgroups.reset();
    }
}
