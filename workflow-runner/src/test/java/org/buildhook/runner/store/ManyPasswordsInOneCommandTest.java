package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * review41 F2: a command's passwords were hidden one per pass of its pattern over the whole text, and each argument's
 * program was looked for from the command's first argument, so that one command of many passwords (13,000 in a
 * one-line text of 64 KiB, {@code ldappasswd -w x -w x …}, or as many arguments) cost 5 to 25 s of CPU at each job
 * start and at each list, API answer or status page that showed the job.
 */
class ManyPasswordsInOneCommandTest {

    /** 64 KiB of one command's passwords, as a text, as shell code, as arguments and in a rule's snapshot. */
    @Test
    void aCommandOfManyPasswordsIsRedactedInLinearTime() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Redaction.redactArgv(List.of("sh", "-c", "ldappasswd -w x -w y"), Map.of()); // loaded before it counts
        long cpu = threads.getCurrentThreadCpuTime();
        String ldap = "ldappasswd" + " -w x".repeat(13_000);
        String openssl = "openssl" + " -passin pass:xy".repeat(4_096);
        List<String> argv = new ArrayList<>(List.of("ldappasswd"));
        for (int i = 0; i < 13_000; i++) {
            argv.addAll(List.of("-w", "p4ss-" + i));
        }
        List<String> hidden = new ArrayList<>(List.of("ldappasswd"));
        hidden.addAll(Collections.nCopies(13_000, List.of("-w", "***")).stream().flatMap(List::stream).toList());

        assertThat(Redaction.redactText(ldap, Set.of())).isEqualTo("ldappasswd" + " -w ***".repeat(13_000));
        assertThat(Redaction.redactText(openssl, Set.of())).isEqualTo("openssl" + " -passin pass:***".repeat(4_096));
        assertThat(Redaction.redactArgv(List.of("sh", "-c", ldap), Map.of()).get(2))
                .isEqualTo("ldappasswd" + " -w ***".repeat(13_000));
        assertThat(Redaction.redactArgv(argv, Map.of())).isEqualTo(hidden);
        assertThat(Redaction.hiddenIn(argv, Map.of())).hasSize(13_000).contains("p4ss-0", "p4ss-12999");
        String snapshot = "{\"command\":[\"" + String.join("\",\"", argv) + "\"]}";
        assertThat(Redaction.redactSnapshot(snapshot)).isEqualTo("{\"command\":[\"" + String.join("\",\"", hidden)
                + "\"]}");

        long used = threads.getCurrentThreadCpuTime() - cpu;
        // Before: 134 s of this thread's CPU (on a loaded machine); after: well under a second.
        assertThat(used).as("thread CPU, ns").isLessThan(4_000_000_000L);
    }
}
