package org.buildhook.runner.rules;

import java.util.List;

/**
 * Which elements of a command a shell reads as code: the argument of a shell's {@code -c} (behind a wrapper and
 * after the shell's options), what {@code su -c} ({@code -lc}), {@code sg GROUP -c} or {@code flock -c} gives a shell,
 * every argument of {@code ssh} and {@code tmux}.
 * The same reading as the look-alike warnings ({@link Lookalikes#readings}), for what is shown of a command
 * ({@code org.buildhook.runner.store.Redaction}: a header's value in shell code ends where its command does).
 */
public final class ShellCode {

    private ShellCode() {
    }

    /**
     * @param argv the command's elements, the program first (an element that is not text as "")
     * @return one flag per element of {@code argv}: whether a shell reads it as code
     */
    public static boolean[] in(List<String> argv) {
        List<Lookalikes.Reading> readings = Lookalikes.readings(argv);
        boolean[] code = new boolean[readings.size()];
        for (int i = 0; i < code.length; i++) {
            code[i] = readings.get(i) == Lookalikes.Reading.SHELL_CODE;
        }
        return code;
    }
}
