package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Where a command or its environment names what runs, behind the first element (tryout42 F2, F3): the program a known
 * wrapper runs ({@code [env, PROG]}, {@code [timeout, 5m, PROG]}, {@code [sudo, -u, deploy, PROG]}, chains of them),
 * and the environment variables that programs run, or load, as code or options ({@code GIT_SSH_COMMAND}, {@code
 * LD_PRELOAD}, {@code PATH} …). A placeholder whose value is the build's own text there would let whoever names a
 * trigger choose what runs ({@code reboot}), whatever its characters: such a rule does not load, as a placeholder in
 * the program itself does not.
 */
final class WrappedPrograms {

    /**
     * The wrappers that run the program named by one of their operands, each with its options that take a value (by
     * their manuals: {@code env(1)}, {@code timeout(1)}, {@code nice(1)}, {@code nohup(1)}, {@code setsid(1)}, {@code
     * stdbuf(1)}, {@code ionice(1)}, {@code flock(1)}, {@code sudo(8)}, {@code doas(1)}, {@code pkexec(1)}, {@code
     * xargs(1)}, {@code chrt(1)}, {@code taskset(1)}, {@code nsenter(1)}, {@code unshare(1)}, {@code chroot(1)},
     * {@code runuser(1)}, {@code systemd-run(1)}, {@code time(1)}, {@code watch(1)} with {@code -x}) and the operands
     * before the program (timeout's duration, flock's file, chrt's priority, taskset's mask, chroot's new root).
     * Shell code ({@code sh -c}, {@code flock -c}, {@code env -S}) is {@link Lookalikes}' and {@link InlineCode}'s.
     */
    private static final Map<String, Wrapper> WRAPPERS = Map.ofEntries(
            Map.entry("env", new Wrapper(ProgramOptions.of("S", Set.of("--split-string"), "uC",
                    Set.of("--unset", "--chdir")), 0, true)),
            Map.entry("timeout", new Wrapper(ProgramOptions.of("", Set.of(), "sk", Set.of("--signal",
                    "--kill-after")), 1, false)),
            Map.entry("nice", new Wrapper(ProgramOptions.of("", Set.of(), "n", Set.of("--adjustment")), 0, false)),
            Map.entry("nohup", new Wrapper(ProgramOptions.of("", Set.of(), "", Set.of()), 0, false)),
            Map.entry("setsid", new Wrapper(ProgramOptions.of("", Set.of(), "", Set.of()), 0, false)),
            Map.entry("stdbuf", new Wrapper(ProgramOptions.of("", Set.of(), "ioe", Set.of("--input", "--output",
                    "--error")), 0, false)),
            Map.entry("ionice", new Wrapper(ProgramOptions.of("", Set.of(), "cnpPu", Set.of("--class",
                    "--classdata", "--pid", "--pgid", "--uid")), 0, false)),
            Map.entry("flock", new Wrapper(ProgramOptions.of("c", Set.of("--command"), "wE", Set.of("--timeout",
                    "--conflict-exit-code")), 1, false)),
            Map.entry("sudo", new Wrapper(ProgramOptions.of("", Set.of(), "CDghpRrTtUu", Set.of("--close-from",
                    "--chdir", "--group", "--host", "--prompt", "--chroot", "--role", "--type", "--command-timeout",
                    "--other-user", "--user")), 0, true)),
            Map.entry("doas", new Wrapper(ProgramOptions.of("", Set.of(), "uC", Set.of()), 0, false)),
            Map.entry("pkexec", new Wrapper(ProgramOptions.of("", Set.of(), "", Set.of("--user")), 0, false)),
            Map.entry("xargs", new Wrapper(ProgramOptions.of("", Set.of(), "adEILnPs", Set.of("--arg-file",
                    "--delimiter", "--max-args", "--max-procs", "--max-chars", "--process-slot-var")), 0, false)),
            Map.entry("chrt", new Wrapper(ProgramOptions.of("", Set.of(), "TPD", Set.of("--sched-runtime",
                    "--sched-period", "--sched-deadline")), 1, false)),
            Map.entry("taskset", new Wrapper(ProgramOptions.of("", Set.of(), "", Set.of()), 1, false)),
            Map.entry("nsenter", new Wrapper(ProgramOptions.of("", Set.of(), "tSG", Set.of("--target", "--setuid",
                    "--setgid")), 0, false)),
            Map.entry("unshare", new Wrapper(ProgramOptions.of("", Set.of(), "SGRw", Set.of("--setuid", "--setgid",
                    "--root", "--wd", "--map-user", "--map-group", "--map-users", "--map-groups", "--propagation")),
                    0, false)),
            Map.entry("chroot", new Wrapper(ProgramOptions.of("", Set.of(), "", Set.of("--userspec", "--groups")), 1,
                    false)),
            Map.entry("runuser", new Wrapper(ProgramOptions.of("c", Set.of("--command", "--session-command"),
                    "ugGsw", Set.of("--user", "--group", "--supp-group", "--shell", "--whitelist-environment")), 0,
                    false)),
            Map.entry("systemd-run", new Wrapper(ProgramOptions.of("", Set.of(), "pEuHM", Set.of("--unit",
                    "--property", "--description", "--slice", "--uid", "--gid", "--nice", "--working-directory",
                    "--setenv", "--host", "--machine", "--on-active", "--on-boot", "--on-startup", "--on-unit-active",
                    "--on-unit-inactive", "--on-calendar", "--timer-property", "--path-property", "--socket-property",
                    "--service-type")), 0, false)),
            Map.entry("time", new Wrapper(ProgramOptions.of("", Set.of(), "fo", Set.of("--format", "--output")), 0,
                    false)));

    /**
     * The environment variables a program runs, or loads, as code or options, each with who does and where that is
     * documented: what a placeholder whose value is the build's own text may not be written into.
     */
    static final Map<String, String> CODE_VARIABLES = Map.ofEntries(
            Map.entry("GIT_SSH_COMMAND", "git runs it through sh -c (git(1))"),
            Map.entry("GIT_SSH", "git runs the program it names in place of ssh (git(1))"),
            Map.entry("GIT_ASKPASS", "git runs the program it names for a password (git(1), gitcredentials(7))"),
            Map.entry("SSH_ASKPASS", "ssh runs the program it names for a passphrase (ssh(1))"),
            Map.entry("EDITOR", "git, crontab, visudo and others run it through sh -c (git-var(1), environ(7))"),
            Map.entry("VISUAL", "git, crontab, visudo and others run it through sh -c (git-var(1), environ(7))"),
            Map.entry("GIT_EDITOR", "git runs it through sh -c (git-var(1))"),
            Map.entry("PAGER", "man, git and others run it through sh -c (environ(7), git-var(1))"),
            Map.entry("GIT_PAGER", "git runs it through sh -c (git(1))"),
            Map.entry("GIT_EXTERNAL_DIFF", "git runs the program it names as its diff (git(1))"),
            Map.entry("RSYNC_RSH", "rsync runs it, split into words, as its remote shell (rsync(1))"),
            Map.entry("BASH_ENV", "bash runs the file it names before a script (bash(1))"),
            Map.entry("ENV", "sh, and bash in POSIX mode, run the file it names (bash(1), sh(1p))"),
            Map.entry("PROMPT_COMMAND", "bash runs it as code before each prompt (bash(1))"),
            Map.entry("LD_PRELOAD", "the dynamic linker loads the libraries it names into every program (ld.so(8))"),
            Map.entry("LD_LIBRARY_PATH", "the dynamic linker loads libraries from the folders it names (ld.so(8))"),
            Map.entry("LD_AUDIT", "the dynamic linker loads the libraries it names (ld.so(8), rtld-audit(7))"),
            Map.entry("PYTHONSTARTUP", "python runs the file it names (python(1))"),
            Map.entry("PYTHONPATH", "python imports modules from the folders it names (python(1))"),
            Map.entry("PERL5OPT", "perl reads it as options, -M (load a module) included (perlrun(1))"),
            Map.entry("PERL5LIB", "perl loads modules from the folders it names (perlrun(1))"),
            Map.entry("NODE_OPTIONS", "node reads it as options, --require included (node(1))"),
            Map.entry("JAVA_TOOL_OPTIONS", "the JVM reads it as options, -javaagent and -XX:OnError included (java(1))"),
            Map.entry("_JAVA_OPTIONS", "the JVM reads it as options (java(1))"),
            Map.entry("JDK_JAVA_OPTIONS", "the java launcher reads it as options (java(1))"),
            Map.entry("PATH", "a program named without a slash is looked up in the folders it names (the exec"
                    + " family's search, section 3 of the manual; environ(7))"),
            Map.entry("IFS", "a shell splits words at the characters it holds (bash(1), sh(1p))"));

    private WrappedPrograms() {
    }

    /** The options of the wrapper named {@code name} ({@code sudo}), or null when it is not one. */
    static ProgramOptions options(String name) {
        Wrapper wrapper = WRAPPERS.get(name);
        return wrapper == null ? null : wrapper.options();
    }

    /**
     * @param argv the command's elements as written, the program first (an element that is not text as "")
     * @return for each element, the wrapper that runs it as its program ({@code timeout}), or empty
     */
    static List<Optional<String>> in(List<String> argv) {
        List<Optional<String>> out = new ArrayList<>(argv.size());
        argv.forEach(a -> out.add(Optional.empty()));
        int at = 0;
        while (at < argv.size()) {
            String name = Lookalikes.name(argv.get(at));
            Wrapper wrapper = WRAPPERS.get(name);
            if (wrapper == null) {
                break;
            }
            int program = wrapper.program(argv, at);
            if (program < 0 || program >= argv.size()) {
                break;
            }
            out.set(program, Optional.of(name));
            at = program;
        }
        return out;
    }

    /**
     * How one wrapper finds its program.
     *
     * @param options     its options (one that names code ends the search: that code is shell code's)
     * @param before      how many operands come before the program
     * @param assignments whether {@code NAME=value} operands may come before the program ({@code env}, {@code sudo})
     */
    private record Wrapper(ProgramOptions options, int before, boolean assignments) {

        /** The index of the program this wrapper at {@code at} runs, or -1 when it runs none (or code). */
        int program(List<String> argv, int at) {
            ProgramOptions.Found found = options.read(argv, at);
            if (found.code() >= 0 || found.option() != null) {
                return -1;
            }
            int i = found.operand() + before;
            while (assignments && i < argv.size() && argv.get(i).indexOf('=') > 0 && !argv.get(i).startsWith("-")) {
                i++;
            }
            // flock FILE -c CMD, watch-like options after the operands: not a program.
            return i < argv.size() && !argv.get(i).startsWith("-") ? i : -1;
        }
    }
}
