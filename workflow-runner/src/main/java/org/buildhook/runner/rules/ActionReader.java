package org.buildhook.runner.rules;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.buildhook.runner.exec.ProcessEncoding;
import org.buildhook.runner.exec.SecretNameWords;
import org.buildhook.runner.exec.SecretNames;
import org.buildhook.runner.store.Redaction;

/** Reads a rule's {@code run} mapping into an {@link Action}, filling in the defaults. */
final class ActionReader extends NodeReader {

    static final Set<String> KEYS = Set.of(
            "command", "workdir", "env", "timeout", "retries", "backoff", "concurrency", "stdin", "resources",
            PayloadValues.KEY);
    /** A follow-up's keys: an action's, and its own follow-ups. */
    static final Set<String> FOLLOW_UP_KEYS;

    static {
        Set<String> keys = new java.util.HashSet<>(KEYS);
        keys.addAll(FollowUpReader.KEYS);
        FOLLOW_UP_KEYS = Set.copyOf(keys);
    }
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    static final int MAX_RETRIES = 100;

    private boolean followUp;
    /** The literal values of the action's secret-named variables, masked wherever they appear, to their names. */
    private Map<String, String> secretValues = Map.of();
    /** The action's env: entries whose value holds a placeholder of the build's own text, by name. */
    private Map<String, Template> payloadEnv = Map.of();
    /** The action's key as written ({@code 'run'}, {@code 'on-failure'} …), for errors. */
    private String what = "'run'";

    ActionReader(ProblemCollector problems) {
        super(problems);
    }

    /** A rule's {@code run}, in a file that declares no resources. */
    Optional<Action> read(YamlNode node, boolean perRun) {
        return read(node, perRun, Map.of(), 0);
    }

    /**
     * The action, or empty when it has mistakes (all of them recorded).
     *
     * @param capacities the resources the rules file declares, with their capacities
     * @param depth      0 for a rule's {@code run}, 1 for its follow-ups, 2 for theirs …
     */
    Optional<Action> read(YamlNode node, boolean perRun, Map<String, Integer> capacities, int depth) {
        return read(node, perRun, capacities, depth, depth == 0 ? "run" : "follow-up");
    }

    /**
     * As {@link #read(YamlNode, boolean, Map, int)}, naming the action in its errors by the key it was written
     * under ({@code run}, {@code on-failure} …), which is what the author looks for in the file.
     */
    Optional<Action> read(YamlNode node, boolean perRun, Map<String, Integer> capacities, int depth, String key) {
        String what = "'" + key + "'";
        Optional<YamlNode.Mapping> run = depth == 0 ? mapping(node, what)
                : mapping(node, what + " (a follow-up: the keys of an action, e.g. " + key
                        + ": {command: [/path/to/program, arg]})");
        if (run.isEmpty()) {
            return Optional.empty();
        }
        int before = problems.count();
        // A key of the rule written under run (on-failure: beside command:) says where it goes, as the other way round
        // does (tryout47b F11).
        boolean commandMisspelt = depth == 0 ? onlyKeys(run.get(), KEYS, key, k -> RulesReader.RULE_KEYS.contains(k)
                ? ": '" + k + "' belongs to the rule, beside '" + key + "' (as far indented as '" + key + "', not under"
                        + " it: " + key + ": {command: […]}, then " + k + ": … on the next line)" : null)
                        .contains("command")
                : followUpKeys(run.get(), what);
        this.followUp = depth > 0;
        this.what = what;
        var entries = run.get().entries();
        this.secretValues = secretValues(entries.get("env"));
        // The env first: a command's git --config-env KEY=VAR may read a variable of it (payloadEnv).
        Map<String, Template> env = entries.containsKey("env") ? env(entries.get("env").value(), perRun) : Map.of();
        this.payloadEnv = env.entrySet().stream()
                .filter(e -> Arrays.stream(Placeholder.values())
                        .anyMatch(p -> p.isPayloadText() && e.getValue().placeholders().contains(p)))
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue(), (a, b) -> a, LinkedHashMap::new));
        List<Template> command = command(run.get(), perRun, commandMisspelt);
        Path workdir = entries.containsKey("workdir") ? workdir(entries.get("workdir").value()) : null;
        Duration timeout = duration(entries.get("timeout"), Action.DEFAULT_TIMEOUT, false);
        Duration backoff = duration(entries.get("backoff"), Action.DEFAULT_BACKOFF, true);
        int retries = entries.containsKey("retries")
                ? integer(entries.get("retries").value(), "'retries'", 0, MAX_RETRIES).orElse(0)
                : Action.DEFAULT_RETRIES;
        int concurrency = entries.containsKey("concurrency")
                ? integer(entries.get("concurrency").value(), "'concurrency'", 0, 10_000).orElse(0)
                : Action.DEFAULT_CONCURRENCY;
        boolean stdin = entries.containsKey("stdin")
                ? bool(entries.get("stdin").value(), "'stdin'").orElse(true)
                : Action.DEFAULT_STDIN;
        Map<String, Integer> resources = entries.containsKey("resources")
                ? resources(entries.get("resources").value(), capacities) : Map.of();
        String followUps = depth == 0 ? null : new FollowUpReader(problems).read(run.get(), perRun, capacities, depth);
        boolean asSent = entries.containsKey(PayloadValues.KEY) && payloadValues(entries.get(PayloadValues.KEY), command,
                env);
        if (command.isEmpty() || problems.count() > before) {
            return Optional.empty();
        }
        Map<String, Integer> needed = new LinkedHashMap<>();
        resources.keySet().forEach(name -> needed.put(name, capacities.get(name)));
        YamlNode.Location programAt = ((YamlNode.Sequence) entries.get("command").value()).items().get(0).location();
        YamlNode.Location workdirAt = workdir == null ? null : entries.get("workdir").value().location();
        return Optional.of(new Action(command, env, workdir, timeout, retries, backoff, concurrency, stdin, resources,
                needed, followUps, programAt, workdirAt, asSent));
    }

    /**
     * {@code payload-values: checked} (the default) or {@code as-sent} (the opt-out of {@link PayloadValues}), said
     * with a warning at load: the rule's jobs get the build's own text in their command and env whatever it holds.
     *
     * @return whether the values are written as sent
     */
    private boolean payloadValues(YamlNode.Entry entry, List<Template> command, Map<String, Template> env) {
        Optional<String> text = text(entry.value(), "'" + PayloadValues.KEY + "'");
        if (text.isEmpty()) {
            return false;
        }
        if (text.get().equals(PayloadValues.CHECKED)) {
            return false;
        }
        if (!text.get().equals(PayloadValues.AS_SENT)) {
            problems.add(entry.value().location(), "'" + PayloadValues.KEY + "' is " + PayloadValues.CHECKED
                    + " (the default) or " + PayloadValues.AS_SENT + ", got '" + text.get() + "'"
                    + Suggestions.didYouMean(text.get(), Set.of(PayloadValues.CHECKED, PayloadValues.AS_SENT)));
            return false;
        }
        boolean writesPayload = PayloadValues.writesPayloadText(command, env.values());
        problems.warn(entry.keyLocation(), what + " writes " + PayloadValues.KEY + ": " + PayloadValues.AS_SENT
                + ": its jobs get the build's own text (trigger, project, run names, URLs) in their command and env"
                + " unchecked, whatever characters it holds, and a program may read it as a path, an option or code"
                + (writesPayload ? "" : " (it writes no such placeholder now)")
                + "; keep it only for values that legitimately hold other characters, read as data"
                + " (docs/rules.md#placeholders)");
        return true;
    }

    /**
     * Reports the keys a follow-up may not have, saying for the ones a rule has why a follow-up has none
     * (tryout21 F8.2: {@code run:} under {@code on-cancel} was told both that it is unknown and that the
     * follow-up "has no 'command'"; {@code approval} only that it is unknown).
     *
     * @return whether its command is reported already (misspelt, or written under a {@code run:})
     */
    private boolean followUpKeys(YamlNode.Mapping followUp, String what) {
        boolean commandReported = false;
        for (YamlNode.Entry entry : followUp.entries().values()) {
            String key = entry.key();
            if (FOLLOW_UP_KEYS.contains(key)) {
                continue;
            }
            String why;
            if (key.equals("run")) {
                why = ": a follow-up is itself the action, so write its keys (command, timeout …) directly under "
                        + what + ", without 'run:'";
                commandReported = true;
            } else if (key.equals(FollowUpReader.ON_APPROVAL_REQUEST)) {
                why = ": a follow-up never awaits an approval; write it on the rule, beside its 'approval'";
            } else if (RulesReader.RULE_KEYS.contains(key)) {
                why = ": a follow-up has no " + key + " of its own, only a rule does (it starts when its job ends"
                        + " that way, as a job of that rule's delivery)";
            } else {
                commandReported |= Suggestions.closest(key, FOLLOW_UP_KEYS).filter("command"::equals).isPresent();
                why = Suggestions.didYouMean(key, FOLLOW_UP_KEYS);
            }
            problems.add(entry.keyLocation(), "unknown key '" + key + "' in " + what + why);
        }
        return commandReported;
    }

    /** {@code resources: {name: units}}: each a resource the file declares, at most its capacity. */
    private Map<String, Integer> resources(YamlNode node, Map<String, Integer> capacities) {
        Map<String, Integer> out = new LinkedHashMap<>();
        Optional<YamlNode.Mapping> mapping = mapping(node, "'resources'");
        if (mapping.isEmpty()) {
            return out;
        }
        for (YamlNode.Entry entry : mapping.get().entries().values()) {
            Integer capacity = capacities.get(entry.key());
            if (capacity == null) {
                java.util.Set<String> declared = new java.util.TreeSet<>();
                capacities.forEach((name, c) -> {
                    if (c != WorkflowReader.NO_CAPACITY) {
                        declared.add(name);
                    }
                });
                problems.add(entry.keyLocation(), "unknown resource '" + entry.key() + "'"
                        + Suggestions.didYouMean(entry.key(), declared)
                        + (declared.isEmpty() ? "; declare it with its capacity under the top-level 'resources:'"
                                : "; declared: " + String.join(", ", declared)));
                continue;
            }
            if (capacity == WorkflowReader.NO_CAPACITY) {
                problems.add(entry.keyLocation(), "resource '" + entry.key() + "' has no valid capacity: fix its"
                        + " declaration under the top-level 'resources:'");
                continue;
            }
            integer(entry.value(), "the units of resource '" + entry.key() + "' (its capacity is " + capacity + ")",
                    1, capacity).ifPresent(units -> out.put(entry.key(), units));
        }
        return out;
    }

    private List<Template> command(YamlNode.Mapping run, boolean perRun, boolean misspelt) {
        YamlNode.Entry entry = run.entries().get("command");
        if (entry == null) {
            if (misspelt) {
                return List.of(); // already reported as an unknown key with 'command' suggested
            }
            problems.add(run.location(), what + " has no 'command' (write command: [/path/to/program, arg, …])");
            return List.of();
        }
        if (!(entry.value() instanceof YamlNode.Sequence)) {
            problems.add(entry.value().location(), "'command' must be a list, one element per argument"
                    + " (no shell splits it), for example [/opt/deploy.sh, \"${build.id}\"]; got "
                    + describe(entry.value()));
            return List.of();
        }
        List<YamlNode> items = ((YamlNode.Sequence) entry.value()).items();
        if (items.isEmpty()) {
            problems.add(entry.value().location(), "'command' is empty: name the program to run");
            return List.of();
        }
        List<Optional<String>> texts = new ArrayList<>();
        for (YamlNode item : items) {
            texts.add(text(item, "each element of 'command'"));
        }
        List<String> plain = texts.stream().map(t -> t.orElse("")).toList();
        List<Lookalikes.Reading> readings = Lookalikes.readings(plain);
        boolean[] code = ShellCode.in(plain);
        List<Optional<InlineCode.Code>> inline = InlineCode.in(plain);
        List<Optional<String>> wrapped = WrappedPrograms.in(plain);
        List<Optional<String>> running = WrappedPrograms.runningOptions(plain);
        List<Optional<String>> assigned = WrappedPrograms.assignments(plain);
        List<Optional<String>> configEnv = WrappedPrograms.configEnv(plain,
                variable -> payloadEnv.containsKey(variable) || Arrays.stream(Placeholder.values())
                        .anyMatch(p -> p.isPayloadText() && p.variable().equals(variable)));
        Lookalikes.CodeReader shell = Lookalikes.shellCodeReader(plain);
        List<Template> argv = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            YamlNode item = items.get(i);
            Optional<String> text = texts.get(i);
            if (text.isEmpty()) {
                continue;
            }
            Template element = template(item, text.get(), Template.Where.of(readings.get(i)), perRun);
            if (i > 0 && code[i]) {
                refusePayloadTextInCode(item, element, "shell code", shell.advice(), plain, shell.program(), i);
            } else if (i > 0 && inline.get(i).isPresent()) {
                InlineCode.Code in = inline.get(i).get();
                refusePayloadTextInCode(item, element, in.where(), in.advice(), plain, in.program(), i);
            } else if (i > 0 && wrapped.get(i).isPresent()) {
                refusePayloadText(item, element, "in the program " + wrapped.get(i).get() + " runs",
                        "it would choose which program runs (a trigger named reboot)", "name the program in the rule");
            } else if (i > 0 && running.get(i).isPresent()) {
                // tryout50 F6: git -c core.sshCommand=… is GIT_SSH_COMMAND, rsync -e is RSYNC_RSH.
                refusePayloadText(item, element, "in the value of " + running.get(i).get(), "that option names the"
                        + " program or code it runs, so it would choose what runs (a trigger named reboot)",
                        "write the value out in the rule (a script of yours may read the build's value from its"
                        + " environment variable, " + variables(element) + ", as data)");
            } else if (i > 0 && assigned.get(i).isPresent()) {
                // review50b R2: [env, "GIT_SSH_COMMAND=${build.trigger}", git, fetch] is the env: key's.
                String name = assigned.get(i).get();
                String runs = WrappedPrograms.codeVariable(name);
                refusePayloadText(item, element, "in env " + name, runs == null ? "it would choose which variable"
                        + " the program runs with (LD_PRELOAD, GIT_SSH_COMMAND)" : runs + ", so it would be read as"
                        + " code, an option or where to load code from", "write the value out in the rule");
            } else if (i > 0 && configEnv.get(i).isPresent()) {
                refuseVariableOfPayloadText(item, text.get(), configEnv.get(i).get());
            }
            if (i > 0) {
                warnAboutLookalikes(item, text.get(), readings.get(i));
                boolean shellCode = code[i];
                // In shell code also a secret flag's value (sh -c "deploy --db-pass PASSWORD"; mask38).
                warnAboutCredential(item, text.get(), texts.get(i - 1).orElse(""), Redaction.passwordArgument(plain, i)
                        .or(() -> shellCode ? Redaction.secretFlagInShellCode(text.get()) : Optional.empty()));
            }
            if (i == 0 && text.get().isBlank()) {
                problems.add(item.location(), "the program ('command' first element) is empty");
            } else if (i == 0 && !element.placeholders().isEmpty()) {
                // The event must never choose which program runs.
                problems.add(item.location(), "the program ('command' first element) may not contain placeholders");
            }
            argv.add(element);
        }
        return argv;
    }

    /**
     * Where {@code p} is first written in {@code node}: its own line and column, also in a script of many lines
     * (tryout42 F11: a block scalar's placeholder was placed at its {@code |}, and two in one argument both at its
     * start).
     */
    private static YamlNode.Location at(YamlNode node, Template template, Placeholder p) {
        int[] use = template.firstUse(p);
        return node instanceof YamlNode.Scalar scalar && use != null ? scalar.locationOf(use[0], use[1])
                : node.location();
    }

    /**
     * A placeholder whose value is the build's own text, in code a shell or another interpreter runs, is an error: it
     * would run whatever the value holds (a trigger named {@code x"; rm -rf ~; "}), so a payload value could become a
     * command (tryout41 F4). The value's environment variable, read by that code, is only ever data; the error says
     * how that program reads it, or what to do where it cannot (sed, ssh's remote shell; tryout42 F4), and how to pass
     * it through a program on the way that leaves it out (sudo, su -l; advice44 A2, {@link VariableAdvice#clause}).
     *
     * @param where   what runs the element as code ("shell code", "python3's -c code", {@link InlineCode})
     * @param advice  how that code reads the variable instead
     * @param argv    the command's elements as written
     * @param program the element of the program that runs the code
     * @param code    the element's index
     */
    private void refusePayloadTextInCode(YamlNode item, Template element, String where, VariableAdvice advice,
            List<String> argv, int program, int code) {
        for (Placeholder p : Placeholder.values()) { // in the table's order, whatever the set's
            if (p.isPayloadText() && element.placeholders().contains(p)) {
                problems.add(at(item, element, p), "placeholder '${" + p.placeholderName() + "}' in " + where
                        + ": its value is the build's own text, which whoever names a project, trigger or run chooses,"
                        + " and the " + (advice == VariableAdvice.SSH ? "remote shell"
                                : where.equals("shell code") ? "shell" : "program")
                        + " would run it as code; " + VariableAdvice.clause(advice, argv, program, code, p)
                        + " (docs/rules.md#placeholders)");
            }
        }
    }

    /**
     * A placeholder whose value is the build's own text where it would choose what runs (tryout42 F2, F3): the program
     * a wrapper runs, an environment variable a program runs or loads as code or options ({@link
     * WrappedPrograms#CODE_VARIABLES}). An error whatever its value's characters: any name is a program, a folder to
     * load code from, an option.
     */
    private void refusePayloadText(YamlNode item, Template element, String where, String why, String instead) {
        for (Placeholder p : Placeholder.values()) { // in the table's order, whatever the set's
            if (p.isPayloadText() && element.placeholders().contains(p)) {
                problems.add(item.location(), "placeholder '${" + p.placeholderName() + "}' " + where + ": its value"
                        + " is the build's own text, which whoever names a project, trigger or run chooses, and " + why
                        + "; " + instead + ", and match the value in 'when' against fixed values (one rule per value if"
                        + " need be) (docs/rules.md#placeholders)");
            }
        }
    }

    /**
     * review50b R3b: {@code [git, --config-env=core.sshCommand=BUILDHOOK_TRIGGER, …]} is {@code -c
     * core.sshCommand=${build.trigger}}: the variable of a placeholder whose value is the build's own text, named where
     * the value of an option that names what runs is read from, is refused as that placeholder there is ({@link
     * #refusePayloadText}'s words).
     *
     * @param where which option of which program reads the variable ({@code git's --config-env core.sshCommand})
     */
    private void refuseVariableOfPayloadText(YamlNode item, String text, String where) {
        String variable = text.substring(text.lastIndexOf('=') + 1);
        for (Placeholder p : Placeholder.values()) {
            boolean own = p.isPayloadText() && variable.equals(p.variable());
            // fix50c's left: the rule's own env: entry that holds such a placeholder is read the same way.
            Template ruleEnv = payloadEnv.get(variable);
            boolean viaEnv = p.isPayloadText() && ruleEnv != null && ruleEnv.placeholders().contains(p);
            if (own || viaEnv) {
                problems.add(item.location(), "variable " + variable + (own ? " (placeholder '${"
                        + p.placeholderName() + "}')" : " (this rule's env, which holds placeholder '${"
                        + p.placeholderName() + "}')") + " in the value of " + where + ": its value is the build's own"
                        + " text, which whoever names a project, trigger or run chooses, and that option names the"
                        + " program or code it runs, so it would choose what runs (a trigger named reboot); write the"
                        + " value out in the rule, and match the value in 'when' against fixed values (one rule per"
                        + " value if need be) (docs/rules.md#placeholders)");
                return;
            }
        }
    }

    /** The environment variables of the payload-text placeholders {@code element} writes ($BUILDHOOK_TRIGGER). */
    private static String variables(Template element) {
        return java.util.Arrays.stream(Placeholder.values())
                .filter(p -> p.isPayloadText() && element.placeholders().contains(p))
                .map(p -> "$" + p.variable()).collect(java.util.stream.Collectors.joining(", "));
    }

    private Map<String, Template> env(YamlNode node, boolean perRun) {
        Map<String, Template> env = new LinkedHashMap<>();
        Optional<YamlNode.Mapping> mapping = mapping(node, "'env'");
        if (mapping.isEmpty()) {
            return env;
        }
        for (YamlNode.Entry entry : mapping.get().entries().values()) {
            String name = entry.key();
            if (!ENV_NAME.matcher(name).matches()) {
                problems.add(entry.keyLocation(), "bad environment variable name '" + name
                        + "': use letters, digits and '_', not starting with a digit");
            } else if (name.toUpperCase(java.util.Locale.ROOT).startsWith(Placeholder.RESERVED_PREFIX)) {
                problems.add(entry.keyLocation(), "environment variable '" + name
                        + "' is reserved: buildhook sets the BUILDHOOK_* variables itself");
            }
            text(entry.value(), "env value '" + name + "'").ifPresent(text -> {
                Template value = template(entry.value(), text, Template.Where.ENV_VALUE, perRun);
                env.put(name, value);
                String runs = WrappedPrograms.codeVariable(name);
                if (runs != null) {
                    refusePayloadText(entry.value(), value, "in env " + name, runs + ", so it would be read as code,"
                            + " an option or where to load code from", "write the value out in the rule");
                }
                warnAboutLookalikes(entry.value(), text, Lookalikes.Reading.LITERAL);
                if (!warnAboutPartWordSecretName(entry, text)) {
                    // A setting's value (AUTH_ENABLED: "true", KEY_ALGORITHM: RS256; tryout39 F8): said at the name,
                    // instead of the short value's warning, which it covers.
                    SettingLikeSecrets.warning(name, text).ifPresentOrElse(
                            w -> problems.warn(entry.keyLocation(), w),
                            () -> warnAboutShortSecret(entry.value(), name, text));
                }
            });
        }
        return env;
    }

    private Path workdir(YamlNode node) {
        Optional<String> text = text(node, "'workdir'");
        if (text.isEmpty()) {
            return null;
        }
        if (text.get().contains("${")) {
            problems.add(node.location(), "'workdir' may not contain placeholders: a path never comes from the event");
            return null;
        }
        try {
            Path path = Path.of(text.get());
            if (!path.isAbsolute()) {
                problems.add(node.location(), "'workdir' must be an absolute path, got '" + text.get() + "'");
                return null;
            }
            return path.normalize();
        } catch (InvalidPathException e) {
            problems.add(node.location(), "bad 'workdir' '" + text.get() + "': " + e.getReason()
                    + (ProcessEncoding.current().exact() ? "" : "; this JVM's locale is not UTF-8: " + ProcessEncoding.FIX));
            return null;
        }
    }

    private Duration duration(YamlNode.Entry entry, Duration fallback, boolean zeroAllowed) {
        if (entry == null) {
            return fallback;
        }
        Optional<String> text = text(entry.value(), "'" + entry.key() + "'");
        if (text.isEmpty()) {
            return fallback;
        }
        try {
            Duration d = Durations.parse(text.get());
            if (d.isZero() && !zeroAllowed) {
                problems.add(entry.value().location(), "'" + entry.key() + "' must be longer than zero");
            }
            if (d.compareTo(Action.LONGEST) > 0) {
                problems.add(entry.value().location(), tooLong("'" + entry.key() + "'", text.get()));
                return fallback;
            }
            return d;
        } catch (IllegalArgumentException e) {
            problems.add(entry.value().location(), e.getMessage() + " in '" + entry.key() + "'");
            return fallback;
        }
    }

    /** A placeholder or shell variable written the wrong way, which stays literal text (tryout30 F2). */
    private void warnAboutLookalikes(YamlNode node, String text, Lookalikes.Reading reading) {
        Lookalikes.in(text, reading).forEach(message -> problems.warn(node.location(), message));
    }

    /**
     * A secret-named variable whose value is too short to mask by value (mask36): buildhook shows it as {@code ***}
     * under its name, but neither where it appears elsewhere nor in the job's log, where masking {@code 1} or
     * {@code yes} would hide every such piece of the output. A value made of placeholders is not known here.
     */
    private void warnAboutShortSecret(YamlNode node, String name, String text) {
        if (!text.isEmpty() && text.length() < SecretNames.SHORTEST_MASKED_VALUE && !text.contains("${")
                && SecretNames.maskedEverywhere(name)) {
            problems.warn(node.location(), "the value of '" + name + "' looks secret (by its name) but has fewer than "
                    + SecretNames.SHORTEST_MASKED_VALUE + " characters: buildhook shows it as *** under its name only,"
                    + " and does not mask it where it appears elsewhere (the command, other variables) nor in the"
                    + " job's log; use a longer secret, or a name that does not look secret if it is none");
        }
    }

    /**
     * A name that looks secret only because a secret word is part of a longer word (tryout38 F6): {@code BYPASS_CACHE:
     * "true"} hid every {@code true} of the job's log, and nothing said so. Said at the name, with what its value gets
     * (never the value), why, and what to do; it replaces the short-value warning, which it covers. The name stays
     * secret: such a word is deprecated, and a later version judges names by whole words ({@link SecretNameWords}).
     *
     * @return whether it warned
     */
    private boolean warnAboutPartWordSecretName(YamlNode.Entry entry, String text) {
        String name = entry.key();
        Optional<SecretNameWords.PartWord> part = SecretNameWords.partWord(name);
        if (part.isEmpty()) {
            return false;
        }
        String shown = " is shown as *** in test, job show, the API and the status page";
        String effect;
        if (text.contains("${")) {
            effect = "its value, filled in when a job starts," + shown + (SecretNames.maskedEverywhere(name)
                    ? ", and when it has " + SecretNames.SHORTEST_MASKED_VALUE + " characters or more it is replaced"
                    + " by *** wherever it appears elsewhere: the command, the other variables and every line of the"
                    + " job's log" : "");
        } else {
            int length = text.codePointCount(0, text.length());
            String value = "its value, " + length + " character" + (length == 1 ? "" : "s") + ",";
            effect = SecretNames.valuesIn(Map.of(name, text)).isEmpty() ? value + shown + " (under its name only)"
                    : value + shown + ", and replaced by *** wherever it appears elsewhere: the command, the other"
                    + " variables and every line of the job's log (masked before the file is written)";
        }
        problems.warnOncePer(name, entry.keyLocation(), part.get().why(name) + ": " + effect + ". "
                + part.get().whatToDo());
        return true;
    }

    /**
     * The literal values of {@code env}'s variables that are masked wherever they appear (a secret-named variable's,
     * {@link SecretNames#valuesIn}), each to its variable's name; a value made of placeholders is not known here, and
     * a variable that seems to hold a setting ({@link SettingLikeSecrets}) is left out: its own warning says so.
     */
    private static Map<String, String> secretValues(YamlNode.Entry env) {
        if (env == null || !(env.value() instanceof YamlNode.Mapping mapping)) {
            return Map.of();
        }
        Map<String, String> literal = new LinkedHashMap<>();
        mapping.entries().values().forEach(e -> {
            if (e.value() instanceof YamlNode.Scalar scalar && scalar.text() != null
                    && !scalar.text().contains("${")) {
                literal.put(e.key(), scalar.text());
            }
        });
        Map<String, String> out = new LinkedHashMap<>();
        literal.forEach((name, value) -> {
            // A variable that seems to hold a setting (MAX_KEY_SIZE: "4096") has its own warning, which says where its
            // value is masked, the command included; "spells out a secret" sent the operator to rewrite a correct
            // command for a port number (tryout41 F6).
            if (!SecretNames.valuesIn(Map.of(name, value)).isEmpty()
                    && SettingLikeSecrets.warning(name, value).isEmpty()) {
                out.putIfAbsent(value, name);
            }
        });
        return out;
    }

    /**
     * A literal credential in a command argument (tryout33 F7): buildhook hides it in what it shows, but every user
     * of the machine sees a command's arguments in {@code ps} while it runs, and nothing can hide them there. An
     * argument that spells out a secret variable's value is told to use that variable (tryout36 F5): buildhook knows
     * for sure that it is a secret, and masks it, but it is as visible in {@code ps} as any other.
     */
    private void warnAboutCredential(YamlNode node, String text, String previous, Optional<String> password) {
        String value = null; // the longest one spelled out: a secret that contains another is named by its own name
        for (String secret : secretValues.keySet()) {
            if (text.contains(secret) && (value == null || secret.length() > value.length())) {
                value = secret;
            }
        }
        if (value != null) {
            String spelled = secretValues.get(value);
            // Once per rule and name (names40): the value in five arguments was five long warnings.
            problems.warnOncePerRule("spelled out " + spelled, node.location(), more -> "this argument spells out the"
                    + " value of '" + spelled + "', a secret by its name" + andSoDo(more)
                    + ": buildhook shows it as *** (test, job show, the API, the status page, the job's log), but"
                    + " every user of this machine can read a command's arguments (ps, /proc) while it runs; pass it"
                    + " through the variable instead: in shell code write \"$" + spelled + "\" where the value is"
                    + " ([/bin/sh, -c, 'curl -H \"Authorization: Bearer $" + spelled + "\" …']), or have the program"
                    + " read " + spelled + " from its environment");
            return;
        }
        Optional<String> what = Redaction.credentialIn(text).or(() -> password);
        // A value shorter than the log's mask floor (x264's --pass 1) is no secret the log could hide: not warned of
        // (tryout38 F7); nor another long flag after a boolean one (--two-pass --turbo: review39 F5).
        if (what.isEmpty() && Redaction.isSecretFlag(previous) && text.length() >= Redaction.SHORTEST_MASKED_VALUE
                && !text.startsWith("${") && !Redaction.isLongFlag(text)) {
            what = Optional.of("the value of '" + previous + "'");
        }
        // Once per rule for each kind (tryout39 F4): openssl's -hmac and -macopt key: in one command, one warning.
        what.ifPresent(w -> problems.warnOncePerRule("credential " + w, node.location(), more -> "this argument looks"
                + " like it holds a secret (" + w + ")" + andSoDo(more) + ": every user of this machine can read a"
                + " command's arguments (ps, /proc) while it runs, and"
                + " buildhook cannot hide them there (it shows them as *** in test, job show, the API and the status page);"
                + " give the secret in 'env' under a name that looks secret (API_TOKEN, DB_PASSWORD …) and have the"
                + " program read it from there (in shell code: \"$API_TOKEN\")"));
    }

    /** {@code ", and so does the argument at 8:70 of this rule"} for a warning's further places; "" for none. */
    private static String andSoDo(List<YamlNode.Location> more) {
        return more.isEmpty() ? "" : ", and so " + (more.size() == 1 ? "does the argument at " : "do the arguments at ")
                + more.stream().map(at -> at.line() + ":" + at.column())
                        .collect(java.util.stream.Collectors.joining(", ")) + " of this rule";
    }

    private Template template(YamlNode node, String text, Template.Where where, boolean perRun) {
        Template t = Template.parse(text, where, message -> problems.add(node.location(), message));
        for (Placeholder p : t.placeholders()) {
            if (p.isPerRun() && !perRun) {
                problems.add(at(node, t, p), "placeholder '${" + p.placeholderName()
                        + "}' needs a run: use it only in rules with runs: {match: each}");
            }
            if (p.isFollowUp() && !followUp) {
                problems.add(at(node, t, p), "placeholder '${" + p.placeholderName()
                        + "}' describes the job a follow-up follows: use it only in on-success, on-failure, on-cancel or"
                        + " on-approval-request");
            }
            if (p == Placeholder.JOB_URL && followUp) {
                problems.jobPageUse(at(node, t, p));
            }
        }
        return t;
    }
}
