package org.buildhook.runner.rules;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

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
            Map.entry("IFS", "a shell splits words at the characters it holds (bash(1), sh(1p))"),
            // tryout50 F6: the same kind, missing from the first list.
            Map.entry("GIT_PROXY_COMMAND", "git runs the program it names to connect to a git:// server (git(1))"),
            Map.entry("GIT_SEQUENCE_EDITOR", "git runs it through sh -c (git-rebase(1))"),
            Map.entry("GIT_EXEC_PATH", "git runs its commands from the folder it names (git(1))"),
            Map.entry("GIT_TEMPLATE_DIR", "git copies the hooks it runs from the folder it names (git-init(1))"),
            Map.entry("GIT_CONFIG_PARAMETERS", "git reads it as -c settings, core.sshCommand included (git(1))"),
            Map.entry("RUBYOPT", "ruby reads it as options, -r (load a library) included (ruby(1))"),
            Map.entry("RUBYLIB", "ruby loads libraries from the folders it names (ruby(1))"),
            Map.entry("NODE_PATH", "node loads modules from the folders it names (node(1))"),
            Map.entry("PYTHONHOME", "python loads its standard library from the folder it names (python(1))"),
            Map.entry("LUA_INIT", "lua runs it as code, or the file it names after @ (lua(1))"),
            Map.entry("GCONV_PATH", "glibc loads character set modules from the folders it names (iconv(3), gconv)"),
            Map.entry("SHELL", "script, su -m, tmux, screen and others run the program it names as the shell"
                    + " (environ(7))"),
            Map.entry("BROWSER", "git web--browse, xdg-open and python's webbrowser run the program it names"
                    + " (environ(7))"),
            Map.entry("LESSOPEN", "less runs it through sh -c as its input preprocessor (less(1))"),
            Map.entry("LESSCLOSE", "less runs it through sh -c after its input preprocessor (less(1))"),
            Map.entry("MANPAGER", "man runs it through sh -c (man(1))"),
            Map.entry("SYSTEMD_PAGER", "systemctl, journalctl and others run it as the pager (systemd(1))"),
            Map.entry("SYSTEMD_EDITOR", "systemctl edit runs it as the editor (systemctl(1))"),
            Map.entry("SUDO_ASKPASS", "sudo -A runs the program it names for a password (sudo(8))"),
            Map.entry("PS4", "bash expands it, $(…) included, before each command it traces (bash(1))"),
            Map.entry("ZDOTDIR", "zsh runs .zshenv and its other start files from the folder it names (zsh(1))"),
            Map.entry("TAR_OPTIONS", "GNU tar reads it as options, --to-command and --use-compress-program included"
                    + " (tar(1))"),
            Map.entry("RSYNC_CONNECT_PROG", "rsync runs it through a shell to reach an rsync daemon (rsync(1))"),
            Map.entry("PARALLEL", "GNU parallel reads it as options and a command it runs through a shell"
                    + " (parallel(1))"),
            Map.entry("PARALLEL_SHELL", "GNU parallel runs its commands with the shell it names (parallel(1))"),
            // review50b R2: git's other spellings of -c and of the file it reads settings from.
            Map.entry("GIT_CONFIG_GLOBAL", "git reads settings, core.sshCommand included, from the file it names"
                    + " (git-config(1))"),
            Map.entry("GIT_CONFIG_SYSTEM", "git reads settings, core.sshCommand included, from the file it names"
                    + " (git-config(1))"),
            Map.entry("GIT_CONFIG", "git config reads and writes settings in the file it names (git-config(1))"),
            Map.entry("GIT_CONFIG_COUNT", "git reads that many GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n> pairs as -c"
                    + " settings (git-config(1))"));

    /** review50b R2: git (2.31 and later) reads each pair as {@code -c KEY=VALUE} (git-config(1), ENVIRONMENT). */
    private static final Pattern GIT_CONFIG_PAIR = Pattern.compile("GIT_CONFIG_(KEY|VALUE)_[0-9]+");

    /**
     * Who runs, or loads, the environment variable {@code name} as code or options ({@link #CODE_VARIABLES}, and
     * git's numbered {@code GIT_CONFIG_KEY_<n>}/{@code GIT_CONFIG_VALUE_<n>}), or null when none of the listed does.
     */
    static String codeVariable(String name) {
        String runs = CODE_VARIABLES.get(name);
        return runs != null || !GIT_CONFIG_PAIR.matcher(name).matches() ? runs
                : "git reads each GIT_CONFIG_KEY_<n> and GIT_CONFIG_VALUE_<n> as -c KEY=VALUE, core.sshCommand"
                        + " included (git-config(1))";
    }

    /**
     * review50b R2: the {@code NAME=VALUE} operands a listed wrapper sets in its program's environment ({@code [env,
     * "GIT_SSH_COMMAND=…", git, fetch]}, sudo's, systemd-run's {@code --setenv}/{@code -E}), each read as the
     * action's {@code env:} key is: for each element, the variable it sets when {@link #codeVariable} names it (or
     * when its name holds a placeholder, which would choose the variable), or empty.
     *
     * @param argv the command's elements as written, the program first (an element that is not text as "")
     */
    static List<Optional<String>> assignments(List<String> argv) {
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
            int end = program < 0 ? argv.size() : program;
            for (int i = at + 1; i < end; i++) {
                String arg = argv.get(i);
                String assignment = null;
                if (wrapper.assignments() && arg.indexOf('=') > 0 && !arg.startsWith("-")) {
                    assignment = arg;
                } else if (name.equals("systemd-run")) {
                    assignment = arg.startsWith("--setenv=") ? arg.substring("--setenv=".length())
                            : arg.startsWith("-E") && arg.length() > 2 ? arg.substring(2)
                            : (arg.equals("-E") || arg.equals("--setenv")) && i + 1 < end ? argv.get(++i) : null;
                }
                if (assignment != null) {
                    String variable = assignment.indexOf('=') < 0 ? assignment
                            : assignment.substring(0, assignment.indexOf('='));
                    if (variable.contains("${") || codeVariable(variable) != null) {
                        out.set(i, Optional.of(variable));
                    }
                }
            }
            if (program < 0) {
                break;
            }
            at = program;
        }
        return out;
    }

    /**
     * The programs with options whose value is a program they run, or code (tryout50 F6: {@code git -c
     * core.sshCommand=…} is {@code GIT_SSH_COMMAND}, {@code rsync -e} is {@code RSYNC_RSH}, {@code tar
     * --checkpoint-action=exec=…} runs a command): each program's options read as {@link ProgramOptions} reads
     * them, the {@code code} ones naming what runs, from each manual ({@code git(1)}, {@code git-config(1)}, {@code
     * git-ls-remote(1)}, {@code git-clone(1)}, {@code git-fetch(1)}, {@code git-push(1)}, {@code git-archive(1)},
     * {@code rsync(1)}, GNU {@code tar(1)}, {@code scp(1)}, {@code sftp(1)}). No such list is complete: any program
     * may have such an option (docs/rules.md#placeholders says so).
     */
    private static final Map<String, ProgramOptions> RUNNING_OPTIONS = Map.ofEntries(
            Map.entry("rsync", ProgramOptions.of("e", Set.of("--rsh", "--rsync-path"), "fTBM", Set.of("--filter",
                    "--temp-dir", "--block-size", "--remote-option", "--exclude", "--include", "--files-from",
                    "--log-file", "--password-file", "--partial-dir", "--backup-dir", "--suffix", "--chmod",
                    "--chown", "--usermap", "--groupmap", "--compare-dest", "--copy-dest", "--link-dest",
                    "--exclude-from", "--include-from", "--out-format", "--log-file-format", "--max-size",
                    "--min-size", "--timeout", "--contimeout", "--port", "--sockopts", "--bwlimit")).permuted()
                    .abbreviated()),
            Map.entry("tar", ProgramOptions.of("IF", Set.of("--use-compress-program", "--to-command", "--info-script",
                    "--new-volume-script", "--checkpoint-action", "--rsh-command"), "fCTXbHKLNVg", Set.of("--file",
                    "--directory", "--files-from", "--exclude-from", "--exclude", "--blocking-factor", "--format",
                    "--starting-file", "--tape-length", "--after-date", "--newer", "--label", "--owner", "--group",
                    "--mode", "--mtime", "--transform", "--xform", "--listed-incremental")).permuted()
                    .abbreviated("--checkpoint").traditional()),
            // scp's and sftp's -F names the ssh_config they read (ProxyCommand …), sftp's -b a batch file (!command).
            Map.entry("scp", ProgramOptions.of("SDF", Set.of(), "ciJlPoX", Set.of()).permuted()),
            Map.entry("sftp", ProgramOptions.of("SDFb", Set.of(), "BciJlPoRs", Set.of()).permuted()),
            // git's own options before its command: -c KEY=VALUE is read by SETTINGS, --exec-path names where
            // git finds the programs of its commands.
            Map.entry("git", ProgramOptions.of("", Set.of("--exec-path"), "C", Set.of("--git-dir", "--work-tree",
                    "--namespace", "--config-env", "--super-prefix", "--list-cmds", "--attr-source"))),
            Map.entry("git ls-remote", ProgramOptions.of("u", Set.of("--upload-pack", "--exec"), "", Set.of("--sort",
                    "--server-option")).permuted().abbreviated()),
            Map.entry("git clone", ProgramOptions.of("u", Set.of("--upload-pack", "--template"), "obj",
                    Set.of("--origin", "--branch", "--reference", "--reference-if-able", "--depth",
                            "--shallow-since", "--shallow-exclude", "--separate-git-dir", "--jobs", "--filter",
                            "--server-option", "--ref-format", "--bundle-uri")).permuted().abbreviated()),
            Map.entry("git fetch", ProgramOptions.of("", Set.of("--upload-pack"), "jo", Set.of("--depth",
                    "--deepen", "--shallow-since", "--shallow-exclude", "--jobs", "--filter", "--server-option",
                    "--negotiation-tip", "--refmap", "--recurse-submodules-default", "--submodule-prefix"))
                    .permuted().abbreviated()),
            Map.entry("git pull", ProgramOptions.of("", Set.of("--upload-pack"), "jos", Set.of("--depth",
                    "--deepen", "--shallow-since", "--shallow-exclude", "--jobs", "--server-option", "--strategy",
                    "--strategy-option", "--negotiation-tip")).permuted().abbreviated()),
            Map.entry("git push", ProgramOptions.of("", Set.of("--receive-pack", "--exec"), "o",
                    Set.of("--push-option", "--repo")).permuted().abbreviated()),
            // review50b R3: git rebase runs each --exec through a shell after each commit.
            Map.entry("git rebase", ProgramOptions.of("x", Set.of("--exec"), "sX", Set.of("--onto", "--strategy",
                    "--strategy-option", "--whitespace")).permuted().abbreviated()),
            Map.entry("git archive", ProgramOptions.of("", Set.of("--exec"), "o", Set.of("--format", "--prefix",
                    "--output", "--remote", "--add-file", "--add-virtual-file", "--mtime")).permuted().abbreviated()));

    /** git's own options before its command, none read as code: where the command is. */
    private static final ProgramOptions GIT_OPTIONS = ProgramOptions.of("", Set.of(), "cC", Set.of("--git-dir",
            "--work-tree", "--namespace", "--config-env", "--super-prefix", "--list-cmds", "--attr-source"));
    /**
     * git's settings whose value git runs (through {@code sh -c} or as a program: {@code core.sshCommand},
     * {@code alias.X=!…}, {@code credential.helper=!…}, {@code filter.X.smudge} …) or that name where it reads code
     * or more settings from ({@code core.hooksPath}, {@code include.path}, {@code init.templateDir}), by {@code
     * git-config(1)}.
     */
    private static final String GIT_KEYS = "core\\.(sshcommand|pager|editor|fsmonitor|hookspath|askpass|gitproxy"
            + "|alternaterefscommand)|sequence\\.editor|diff\\.external|diff\\..+\\.(command|textconv)"
            + "|merge\\..+\\.driver|filter\\..+\\.(clean|smudge|process)|credential(\\..+)?\\.helper|alias\\..+"
            + "|pager\\..+|gpg(\\..+)?\\.program|remote\\..+\\.(uploadpack|receivepack)|include\\.path"
            + "|includeif\\..+\\.path|init\\.templatedir|web\\.browser|browser\\..+\\.(cmd|path)"
            + "|man\\..+\\.(cmd|path)|difftool\\..+\\.(cmd|path)|mergetool\\..+\\.(cmd|path)"
            + "|interactive\\.difffilter|uploadpack\\.packobjectshook|protocol\\..+\\.allow"
            + "|sendemail\\..*(smtpserver|tocmd|cccmd|headercmd)|submodule\\..+\\.update|tar\\..+\\.command"
            + "|core\\.attributesfile";
    /** ssh's settings whose value ssh runs or loads ({@code ssh_config(5)}), read by scp and sftp from {@code -o}. */
    private static final String SSH_KEYS = "proxycommand|localcommand|knownhostscommand|pkcs11provider"
            + "|securitykeyprovider|match|include|permitlocalcommand";

    /**
     * The options that set a program's settings as {@code KEY=VALUE} ({@code git -c}, {@code git clone --config},
     * {@code scp -o}, {@code sftp -o}), each with the keys whose value runs a program or code, or names where code
     * is read from (case-insensitive; {@code git-config(1)}, {@code ssh_config(5)}). A placeholder of the build's
     * own text in the key chooses the key, so it is refused whatever the key.
     */
    private static final Map<String, Settings> SETTINGS = Map.of(
            "git", new Settings(ProgramOptions.of("c", Set.of(), "C", Set.of("--git-dir", "--work-tree",
                    "--namespace", "--config-env", "--super-prefix", "--list-cmds", "--attr-source")),
                    Pattern.compile(GIT_KEYS, Pattern.CASE_INSENSITIVE)),
            "git clone", new Settings(ProgramOptions.of("c", Set.of("--config"), "obju", Set.of("--origin",
                    "--branch", "--reference", "--depth", "--separate-git-dir", "--jobs", "--filter",
                    "--upload-pack", "--template", "--server-option")).permuted().abbreviated(),
                    Pattern.compile(GIT_KEYS, Pattern.CASE_INSENSITIVE)),
            "scp", new Settings(ProgramOptions.of("o", Set.of(), "cDFiJlPS", Set.of()).permuted(),
                    Pattern.compile(SSH_KEYS, Pattern.CASE_INSENSITIVE)),
            "sftp", new Settings(ProgramOptions.of("o", Set.of(), "aBbcDFiJlPRsS", Set.of()).permuted(),
                    Pattern.compile(SSH_KEYS, Pattern.CASE_INSENSITIVE)));

    private WrappedPrograms() {
    }

    /**
     * The elements whose value is a program, code, or a setting that names one, given to an option of the command's
     * program, or of the program a known wrapper runs ({@link #in}; tryout50 F6: {@code [git, -c,
     * "core.sshCommand=${build.trigger}", fetch]}, {@code [rsync, -e, …]}, {@code [tar,
     * "--checkpoint-action=exec=…"]}).
     *
     * @param argv the command's elements as written, the program first (an element that is not text as "")
     * @return for each element, which option of which program runs it ({@code "git's -c core.sshCommand"}), or empty
     */
    static List<Optional<String>> runningOptions(List<String> argv) {
        List<Optional<String>> out = new ArrayList<>(argv.size());
        argv.forEach(a -> out.add(Optional.empty()));
        List<Optional<String>> wrapped = in(argv);
        int program = 0;
        for (int i = 1; i < argv.size(); i++) {
            program = wrapped.get(i).isPresent() ? i : program;
        }
        String name = Lookalikes.name(argv.get(program));
        mark(argv, program, name, RUNNING_OPTIONS.get(name), out);
        markSettings(argv, program, name, SETTINGS.get(name), out);
        if (name.equals("git")) {
            int command = GIT_OPTIONS.read(argv, program).operand();
            if (command < argv.size()) {
                String sub = "git " + argv.get(command);
                mark(argv, command, sub, RUNNING_OPTIONS.get(sub), out);
                markSettings(argv, command, sub, SETTINGS.get(sub), out);
                markGitCommands(argv, command, sub, out);
            }
        }
        return out;
    }

    /** git config's options that take a value ({@code git-config(1)}): the key is the first operand after them. */
    private static final ProgramOptions GIT_CONFIG = ProgramOptions.of("", Set.of(), "f", Set.of("--file",
            "--blob", "--type", "--default", "--comment", "--value", "--url")).permuted();
    /** git config's subcommands (git 2.46 and later) before the key ({@code git config set KEY VALUE}). */
    private static final Set<String> GIT_CONFIG_SUBCOMMANDS = Set.of("set", "get", "unset", "list", "rename-section",
            "remove-section", "edit");

    /**
     * review50b R3: the git commands whose operands name what runs. {@code git config KEY VALUE} keeps what {@code -c
     * KEY=VALUE} gives one command, for every later git command: its value is marked when {@link #GIT_KEYS} names the
     * key (or the key holds a placeholder), the key too; {@code git submodule foreach CMD} runs CMD through a shell;
     * {@code git bisect run PROG …} runs PROG.
     */
    private static void markGitCommands(List<String> argv, int command, String sub, List<Optional<String>> out) {
        List<Integer> operands = operands(argv, command, sub.equals("git config") ? GIT_CONFIG
                : ProgramOptions.of("", Set.of(), "", Set.of()).permuted());
        switch (sub) {
            case "git config" -> {
                int k = !operands.isEmpty() && GIT_CONFIG_SUBCOMMANDS.contains(argv.get(operands.get(0))) ? 1 : 0;
                if (operands.size() > k) {
                    String key = argv.get(operands.get(k));
                    if (key.contains("${") || Pattern.compile(GIT_KEYS, Pattern.CASE_INSENSITIVE).matcher(key)
                            .matches()) {
                        operands.subList(k, operands.size()).forEach(o -> out.set(o, Optional.of(sub + "'s " + key)));
                    }
                }
            }
            case "git submodule" -> {
                int foreach = operands.indexOf(operands.stream().filter(o -> argv.get(o).equals("foreach"))
                        .findFirst().orElse(-1));
                if (foreach >= 0) {
                    operands.subList(foreach + 1, operands.size())
                            .forEach(o -> out.set(o, Optional.of("git submodule foreach's command")));
                }
            }
            case "git bisect" -> {
                if (operands.size() > 1 && argv.get(operands.get(0)).equals("run")) {
                    out.set(operands.get(1), Optional.of("git bisect run's program"));
                }
            }
            default -> {
            }
        }
    }

    /** The operands of the program at {@code at}, read past its options as {@code options} gives their values. */
    private static List<Integer> operands(List<String> argv, int at, ProgramOptions options) {
        List<Integer> out = new ArrayList<>();
        int i = at + 1;
        while (i < argv.size()) {
            String arg = argv.get(i);
            if (arg.equals("--")) {
                for (int o = i + 1; o < argv.size(); o++) {
                    out.add(o);
                }
                break;
            }
            if (arg.length() < 2 || arg.charAt(0) != '-') {
                out.add(i++);
            } else if (arg.startsWith("--")) {
                i += arg.indexOf('=') < 0 && options.longValue().contains(arg) ? 2 : 1;
            } else {
                int next = i + 1;
                for (int c = 1; c < arg.length(); c++) {
                    if (options.value().contains(arg.charAt(c))) {
                        next = c + 1 < arg.length() ? i + 1 : i + 2;
                        break;
                    }
                }
                i = next;
            }
        }
        return out;
    }

    /**
     * review50b R3b: git's {@code --config-env KEY=VAR}, {@code -c KEY=VALUE} with the value read from VAR: for each
     * element, {@code "git's --config-env KEY"} when {@link #GIT_KEYS} names KEY and {@code payloadVariable} says
     * VAR's value is the build's own text, or empty.
     *
     * @param argv the command's elements as written, the program first (an element that is not text as "")
     * @param payloadVariable whether a variable's value is the build's own text: a payload-text placeholder's
     *     ({@code BUILDHOOK_TRIGGER}) or the rule's own {@code env:} entry holding one
     */
    static List<Optional<String>> configEnv(List<String> argv, java.util.function.Predicate<String> payloadVariable) {
        List<Optional<String>> out = new ArrayList<>(argv.size());
        argv.forEach(a -> out.add(Optional.empty()));
        List<Optional<String>> wrapped = in(argv);
        int program = 0;
        for (int i = 1; i < argv.size(); i++) {
            program = wrapped.get(i).isPresent() ? i : program;
        }
        if (!Lookalikes.name(argv.get(program)).equals("git")) {
            return out;
        }
        int end = Math.min(GIT_OPTIONS.read(argv, program).operand(), argv.size());
        for (int i = program + 1; i < end; i++) {
            String arg = argv.get(i);
            int at = i;
            String setting = arg.startsWith("--config-env=") ? arg.substring("--config-env=".length())
                    : arg.equals("--config-env") && i + 1 < end ? argv.get(at = ++i) : null;
            int eq = setting == null ? -1 : setting.lastIndexOf('='); // git splits at the last '='
            if (eq > 0) {
                String key = setting.substring(0, eq);
                String variable = setting.substring(eq + 1);
                if (payloadVariable.test(variable) && Pattern.compile(GIT_KEYS, Pattern.CASE_INSENSITIVE).matcher(key).matches()) {
                    out.set(at, Optional.of("git's --config-env " + key));
                }
            }
        }
        return out;
    }

    /** Marks every value of a {@code code} option of {@code options}, read from the program at {@code at}. */
    private static void mark(List<String> argv, int at, String name, ProgramOptions options,
            List<Optional<String>> out) {
        if (options == null) {
            return;
        }
        int from = at;
        while (from < argv.size()) {
            ProgramOptions.Found found = options.read(argv, from);
            if (found.code() < 0) {
                return;
            }
            out.set(found.code(), Optional.of(name + "'s " + found.option()));
            from = found.operand() - 1;
        }
    }

    /** Marks every value of a setting option whose key {@code settings} names, or whose key holds a placeholder. */
    private static void markSettings(List<String> argv, int at, String name, Settings settings,
            List<Optional<String>> out) {
        if (settings == null) {
            return;
        }
        int from = at;
        while (from < argv.size()) {
            ProgramOptions.Found found = settings.options().read(argv, from);
            if (found.code() < 0) {
                return;
            }
            String setting = argv.get(found.code());
            if (setting.startsWith("-")) { // glued to its option: -ccore.sshCommand=…, --config=…, -oProxyCommand=…
                setting = found.option().startsWith("--") ? setting.substring(setting.indexOf('=') + 1)
                        : setting.substring(setting.indexOf(found.option().charAt(1), 1) + 1);
            }
            int end = setting.length();
            for (char stop : new char[] {'=', ' ', '\t'}) {
                end = setting.indexOf(stop) >= 0 ? Math.min(end, setting.indexOf(stop)) : end;
            }
            String key = setting.substring(0, end);
            if (key.contains("${") || settings.keys().matcher(key).matches()) {
                out.set(found.code(), Optional.of(name + "'s " + found.option() + " " + key));
            }
            from = found.operand() - 1;
        }
    }

    /**
     * How one program is given settings.
     *
     * @param options its options, the {@code code} one naming a setting ({@code -c})
     * @param keys    the settings whose value runs a program or code
     */
    private record Settings(ProgramOptions options, Pattern keys) {
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
