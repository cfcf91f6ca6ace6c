package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * review40 F2: a command's password pattern ({@link CommandCredentials#TEXT}) was tried by {@link Matcher#find()} at
 * each occurrence of its program's name, and each try ran to the end of the command: a text of one command with many
 * such words cost its redaction seconds of CPU (64 KiB of {@code 7z 7z …}: 7 s), at each job start and each list that
 * showed the job. {@link CommandCredentials.Matches} finds the same matches in linear time.
 */
class CommandPasswordsInLongTextsTest {

    private static final String[] PIECES = {"curl", "sshpass", "mysql", "docker", "az acr", " login", "lftp",
        "smbclient", "htpasswd", "redis-cli", "ldapsearch", "ldappasswd", "zip", "keytool", "openssl", "mosquitto_pub",
        "sqlcmd", "7z", " ", " ", " ", " ", "\t", "-a ", "-u ", "-U ", "-p", "-w", "-xw", "-P", "-k ", "-s ", "-v ",
        "-storepass ", "-passin ", "pass:", "--pass ", "--pw ", "--user=", "deploy", ":", ",", "%", "pw", "-b ",
        "-nb ", "-C 10 ", "f ", "u ", ";", "&&", "|", "'", "\"", "$", "***", "\n", "x", ".", "-K ", "-hmac ",
        "-macopt ", "key:", "-", "/usr/bin/"};

    /** A password after its flag, for one program or another. */
    private static final String[] PASSWORDS = {" -w x", " -w  y", " -wz", " -xw x", " -a x", " -s x", " -P x", " -Px",
        " -px", " -k x", " -K x", " -hmac x", " -storepass x", " -keypass x", " -new x", " -passin pass:x",
        " -passout=pass:y", " -macopt key:x", " -a --x", " -w -w", " -w \"x\"", " -w 'x'", " --pw x", " --pass x",
        " -u a:b", " -pq", "\n-w ldapsearch", "\n-w ldappasswd", "\n-s ldappasswd", "\n-a redis-cli", "\n-w (ldapsearch"};

    /** On many seeded texts with several programs in one command: the same matches, in the same order, as find(). */
    @Test
    void findsTheMatchesThatFindFindsInTheSameOrder() {
        Random random = new Random(40);
        int matches = 0;
        for (int n = 0; n < 30_000; n++) {
            // Half of them begin with a program, so that many match; the rest may hold one anywhere, or none.
            StringBuilder b = new StringBuilder(n % 2 == 0 ? PIECES[random.nextInt(18)] + " " : "");
            for (int k = random.nextInt(30); k >= 0; k--) {
                b.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String text = b.toString();
            for (int k = 0; k < CommandCredentials.TEXT.size(); k++) {
                List<String> expected = new ArrayList<>();
                Matcher m = CommandCredentials.TEXT.get(k).matcher(text);
                while (m.find()) {
                    expected.add(m.start() + "-" + m.end() + ":" + m.start("s"));
                }
                List<String> found = new ArrayList<>();
                CommandCredentials.Matches c = CommandCredentials.matches(k, text);
                while (c.find()) {
                    found.add(c.matcher().start() + "-" + c.matcher().end() + ":" + c.matcher().start("s"));
                }
                assertThat(found).as("%s in %s", CommandCredentials.TEXT.get(k), text).isEqualTo(expected);
                matches += found.size();
            }
        }
        assertThat(matches).as("texts with passwords on a command line were tried").isGreaterThan(1_000);
    }

    /**
     * review41 F2: on many seeded texts, {@link CommandCredentials#passwords} in one pass finds the passwords that
     * {@link CommandCredentials#matches} found tried again on its own output while it hid more (as
     * {@link Redaction#redactText} did), or more where the passes hid a password that begins a command on the next
     * line before that command was read (and never read it), and a pass more finds none.
     */
    @Test
    void findsInOnePassWhatPassesFoundUntilTheyHidNoMore() {
        Random random = new Random(41);
        int severalPasses = 0;
        int hidesMore = 0;
        for (int n = 0; n < 15_000; n++) {
            // Most begin with a program; in two thirds most pieces are a password after its flag.
            StringBuilder b = new StringBuilder(n % 4 != 0 ? PIECES[random.nextInt(18)] + " " : "");
            for (int k = random.nextInt(30); k >= 0; k--) {
                b.append(n % 3 != 0 && random.nextInt(3) > 0 ? PASSWORDS[random.nextInt(PASSWORDS.length)]
                        : PIECES[random.nextInt(PIECES.length)]);
            }
            String text = b.toString();
            for (int k = 0; k < CommandCredentials.TEXT.size(); k++) {
                String expected = text;
                int passes = 0;
                for (String before = null; !expected.equals(before); passes++) {
                    before = expected;
                    expected = hidden(CommandCredentials.matches(k, expected), expected);
                }
                String once = hidden(CommandCredentials.passwords(k, text), text);
                if (!once.equals(expected)) {
                    // The passes hid a password whose value begins a command on the next line (-w\nldapsearch …)
                    // before that command's own passwords were looked for, or after: one pass hides them all.
                    assertThat(showsOnlyWhatIsShownIn(once, expected)).as("%s in %s: %s, passes %s",
                            CommandCredentials.TEXT.get(k), text, once, expected).isTrue();
                    hidesMore++;
                }
                assertThat(hidden(CommandCredentials.passwords(k, once), once)).isEqualTo(once);
                severalPasses += passes > 2 ? 1 : 0;
            }
        }
        assertThat(severalPasses).as("commands with several passwords were tried").isGreaterThan(1_000);
        assertThat(hidesMore).as("texts where one pass hides more than the passes").isLessThan(severalPasses / 10);
    }

    /** Whether {@code shown} holds the pieces that {@code masked} shows between its {@code ***}, in their order. */
    private static boolean showsOnlyWhatIsShownIn(String masked, String shown) {
        StringBuilder pattern = new StringBuilder();
        for (String piece : masked.split("\\*\\*\\*", -1)) {
            pattern.append(pattern.isEmpty() ? "" : "(?s:.*?)").append(Pattern.quote(piece));
        }
        return Pattern.compile(pattern.toString()).matcher(shown).matches();
    }

    /** {@code text} with the password (group s) of each of {@code matches} that is neither hidden nor a variable hidden. */
    private static String hidden(CommandCredentials.Matches matches, String text) {
        StringBuilder b = new StringBuilder();
        int last = 0;
        while (matches.find()) {
            int start = matches.matcher().start("s");
            if (!text.startsWith("***", start) && !text.startsWith("$", start)) {
                b.append(text, last, start).append("***");
                last = matches.matcher().end("s");
            }
        }
        return b.append(text, last, text.length()).toString();
    }

    /** 64 KiB of one program's name, again and again, for each of four programs: well under a second each now. */
    @Test
    void aLongCommandOfManyProgramNamesIsRedactedInLinearTime() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Redaction.redactText("sqlcmd mysql 7z curl -u u:p-w0rd", Set.of()); // loaded and compiled before it counts
        long cpu = threads.getCurrentThreadCpuTime();
        for (String word : List.of("sqlcmd ", "mysql ", "7z ", "curl ")) {
            String text = word.repeat(65_536 / word.length()) + "-p s3cr3t-pw";
            assertThat(Redaction.redactText(text, Set.of())).startsWith(word + word);
        }
        long used = threads.getCurrentThreadCpuTime() - cpu;
        // Before: 12 to 20 s of this thread's CPU; after: 0.1 to 0.5 s.
        assertThat(used).as("thread CPU, ns").isLessThan(4_000_000_000L);
    }
}
