package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * review41 F1: three of the redaction's patterns were tried at many places of a text, each try reading on to the end
 * of a run, a line or the text, so that a one-line text of 64 KiB (a payload value in a job's command or environment)
 * cost seconds to tens of seconds of CPU at each job start and at each list, API answer or status page that showed the
 * job: {@code NAME=value} after each {@code -} of a long run of name characters ({@code =a-a-a-…}: 20 s), a header's
 * value read to its line's end for each {@code name:} ({@code a:b a:b … token: t}: 3 s), and htpasswd's options after
 * each {@code htpasswd} that is the value of the {@code -C} before it ({@code htpasswd -C htpasswd -C …}: 4 to 8 s).
 */
class RedactionOfLongTextsTest {

    /** The patterns as they were before review41, whose matches the new ones must give. */
    private static final Pattern ASSIGNMENT_BEFORE = Pattern.compile(
            "(?<![A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_.-]*)=([^\\s&;,\"'#]+)");
    private static final Pattern HEADER_BEFORE = Pattern.compile(
            "(?:(?<=(?:^|\\s)-H)|(?<![^\\s\"'(\\[{,;=]))(?!(?i:proxy-)?(?i:authorization):)([A-Za-z][A-Za-z0-9_.-]*)"
                    + ":[ \\t]*([^\\s\"'][^\\r\\n\"']*)");

    private static final String[] PIECES = {"a", "B", "_", "9", ".", "-", "--", "=", "x=", "TOKEN=", "db-password=",
        "-H", "X-Api-Key", ":", ": ", "\t", " ", " ", "\n", "\r", "\"", "'", "(", "[", "{", ",", ";", "&", "#", "/", "@",
        "Authorization:", "proxy-", "$", "***", "k3y", "sig", "1.2"};

    @Test
    void longTextsAreRedactedInLinearTime() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Redaction.redactText("x=y a:b token: t htpasswd -b f u p4ss", List.of()); // loaded before it counts
        long cpu = threads.getCurrentThreadCpuTime();
        String dashes = "=" + "a-".repeat(32_768);
        String headers = "a:b ".repeat(16_384);
        String htpasswd = "htpasswd -b -C ".repeat(4_369);

        assertThat(Redaction.redactText(dashes + " DB_TOKEN=s3cr3t-t0k3n", List.of()))
                .isEqualTo(dashes + " DB_TOKEN=***");
        assertThat(Redaction.redactText(headers + "token: s3cr3t-t0k3n", List.of())).isEqualTo(headers + "token: ***");
        assertThat(Redaction.redactArgv(List.of("sh", "-c", headers + "X-Api-Key: k3y-v4lue && ls"), Map.of()).get(2))
                .isEqualTo(headers + "X-Api-Key: *** && ls");
        assertThat(Redaction.redactText(htpasswd + "x", List.of())).isEqualTo(htpasswd + "x");
        assertThat(Redaction.redactText(htpasswd + "10 /etc/h u ht-pa55", List.of()))
                .isEqualTo(htpasswd + "10 /etc/h u ***");
        assertThat(Redaction.credentialIn(dashes)).isEmpty();
        assertThat(Redaction.credentialIn(headers)).isEmpty();

        long used = threads.getCurrentThreadCpuTime() - cpu;
        // Before: 50 to 70 s of this thread's CPU; after: well under a second.
        assertThat(used).as("thread CPU, ns").isLessThan(4_000_000_000L);
    }

    /** On many seeded texts: the same assignments, and the same headers with the same values, as before. */
    @Test
    void findsWhatThePatternsFoundBefore() {
        Random random = new Random(41);
        int assignments = 0;
        int headers = 0;
        for (int n = 0; n < 100_000; n++) {
            StringBuilder b = new StringBuilder();
            for (int k = random.nextInt(25); k >= 0; k--) {
                b.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String text = b.toString();
            List<String> before = new ArrayList<>();
            for (Matcher m = ASSIGNMENT_BEFORE.matcher(text); m.find(); ) {
                before.add(m.start() + ":" + m.group(1) + "=" + m.group(2));
            }
            List<String> now = new ArrayList<>();
            for (Matcher m = Redaction.ASSIGNMENT.matcher(text); m.find(); ) {
                now.add(m.start(1) + ":" + m.group(1) + "=" + m.group(2));
            }
            assertThat(now).as("assignments in %s", text).isEqualTo(before);
            assignments += now.size();

            before.clear();
            Matcher old = HEADER_BEFORE.matcher(text);
            for (int at = 0; at <= text.length() && old.find(at); at = old.end(1) + 1) {
                before.add(old.group(1) + "@" + old.start(1) + ":" + old.start(2) + "-" + old.end());
            }
            now.clear();
            Matcher m = Redaction.HEADER.matcher(text);
            for (int at = 0; at <= text.length() && m.find(at); at = m.end(1) + 1) {
                now.add(m.group(1) + "@" + m.start(1) + ":" + m.end() + "-" + Redaction.valueEnd(text, m.end(), false));
            }
            assertThat(now).as("headers in %s", text).isEqualTo(before);
            headers += now.size();
        }
        assertThat(assignments).as("texts with assignments were tried").isGreaterThan(10_000);
        assertThat(headers).as("texts with headers were tried").isGreaterThan(5_000);
    }
}
