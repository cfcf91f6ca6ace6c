package org.buildhook.distribution;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.buildhook.runner.exec.NodeFolders;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.rules.UnreadableRulesException;
import org.buildhook.runner.rules.RulesFingerprint;
import org.buildhook.runner.store.LeftBehindJobs;
import org.buildhook.runner.store.NodeLeases;
import org.buildhook.runner.store.OtherStoreJobs;
import org.buildhook.runner.store.RefusedStoredJobs;
import org.buildhook.runner.store.RulesDisagreement;
import org.buildhook.runner.store.SchemaOutlook;
import org.buildhook.runner.store.StoreReachability;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigException;
import org.buildhook.servlet.config.ConfigLoader;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code buildhook check}: validates the configuration and its rules file; every mistake with file:line:column. */
@Command(
        name = "check",
        mixinStandardHelpOptions = true,
        description = "Validate the configuration and the rules file. Prints every mistake as file:line:column; "
                + "exits 1 if there is any. Says at which schema version the store is and what 'serve' does to it "
                + "(exit 3 for a store a newer buildhook migrated, which 'serve' refuses). Starts nothing and writes "
                + "nothing: a secret 'serve' would generate is only announced, the store is only read.",
        footer = {
            "",
            "Examples:",
            "  buildhook check --config /etc/buildhook/buildhook.yaml",
            "  # what 'serve' would use, e.g. the embedded defaults:",
            "  buildhook check",
            "  # only a rules file, e.g. in a pre-commit hook:",
            "  buildhook check --rules rules.yaml",
            "  # before a restart or upgrade: also fail when the store could not be used now:",
            "  buildhook check --strict && systemctl restart buildhook",
            "",
            ExitCodes.CHECK
        })
final class CheckCommand implements Callable<Integer> {

    private final Path workingDirectory;

    @Spec
    CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "buildhook.yaml to check (default: as serve finds it).")
    Path config;

    @Option(names = "--rules", paramLabel = "FILE", description = "Check this rules file (instead of the configuration's;"
            + " alone, only this file is checked).")
    Path rules;

    @Option(names = "--strict", description = "Also exit 3 when 'serve' would not start now: a PostgreSQL store it"
            + " cannot connect to or use (privileges, schema), which check otherwise only warns about because it may"
            + " run where the database cannot be reached; for a script before a restart or upgrade.")
    boolean strict;

    CheckCommand() {
        this(Path.of(""));
    }

    /** @param workingDirectory what relative defaults such as {@code ./data} resolve against */
    CheckCommand(Path workingDirectory) {
        this.workingDirectory = workingDirectory;
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int problems = 0;
        int ofTheMachine = 0; // of problems: folders it cannot write in, no mistake of the file (tryout31 F4)
        int notRead = 0; // of problems: files named that are not there or cannot be read, no mistake either (fix55b)
        boolean wouldNotStart = false;
        boolean refused = false;
        Path rulesFile = rules;
        Path defaultWorkdir = null;
        org.buildhook.runner.engine.EngineConfig engine = null;
        BuildhookConfig checked = null;
        String checkedName = null;
        // --rules alone checks that file only (a pre-commit hook has no configuration); with --config
        // too, the named configuration is checked as well, its rules file replaced by --rules.
        if (rules == null || config != null) {
            try {
                ConfigLoader loader = Configs.loader(workingDirectory).withoutWriting().resolvingServerHost();
                Optional<Path> file = Configs.locate(config);
                if (file.isEmpty()) {
                    out.println("no configuration file given (--config) or found (" + ConfigLoader.ENV + ", -D"
                            + ConfigLoader.PROPERTY + ", <home>/conf/buildhook.yaml): checking the embedded defaults, "
                            + "as 'serve' would use them");
                }
                BuildhookConfig loaded = file.map(loader::load).orElseGet(loader::defaults);
                // As given, as the notes, warnings and mistakes name it (tryout15 F9: the first line had it absolute).
                String name = file.map(Path::toString).orElse("embedded defaults");
                // A wrong password or currentSchema passed check and failed the start (tryout15 F3): ask
                // PostgreSQL now. A warning, not a mistake: check may run where the database is not reachable.
                Optional<String> unusable = StoreReachability.whyUnreachable(loaded.store());
                // What serve's start does to the schema, read only (tryout26 F9): the upgrade to back up for
                // beforehand, or the refusal of a store a newer build migrated.
                Optional<SchemaOutlook> schema = unusable.isEmpty() ? SchemaOutlook.of(loaded.store())
                        : Optional.empty();
                refused = schema.filter(SchemaOutlook::newer).isPresent();
                out.println(name + ": ok (" + loaded.endpoints().size() + " endpoint(s))"
                        + (unusable.isEmpty() && !refused ? "" : ", but 'serve' would not start now: see the "
                                + (refused ? "error" : "warning") + " below"));
                loaded.notes().forEach(out::println);
                loaded.warnings().forEach(out::println);
                // The store, secrets and folders checked below are this folder's ./data, which a serve run elsewhere
                // (the systemd unit's WorkingDirectory) does not use: said as 'jobs' says it (tryout47b F9).
                if (AdminOptions.isDefaultDataDir(loaded)) {
                    out.println(name + ": note: " + AdminOptions.DEFAULT_DATA_DIR + workingDirectory.toAbsolutePath()
                            + "), not to the configuration's folder: what is checked below is " + loaded.dataDir()
                            + ", and a 'serve' started in another folder (under systemd, the unit's"
                            + " WorkingDirectory=/var/lib/buildhook) uses that folder's ./data instead. "
                            + AdminOptions.DATA_DIR_ADVICE);
                }
                warnAboutNodeFolders(loaded, name, out);
                // Only a store check could not connect to may be one it cannot reach from here; one it did reach
                // and read the privileges or schema of is what serve will meet (tryout19 F6).
                unusable.ifPresent(why -> out.println(name + ": warning: " + why + " ('serve' would not start now"
                        + (why.startsWith("cannot connect")
                                && !why.contains(org.buildhook.runner.store.Store.ANSWERED_AND_REFUSED)
                                ? "; a check run where the database cannot be reached may"
                                + " ignore this)" : ")")));
                schema.ifPresent(outlook -> out.println(name + (outlook.newer() ? ": error: "
                        : outlook.unreadable() != null ? ": warning: " : ": ") + outlook.describe()
                        + (outlook.newer() ? " ('serve' would not start now)" : "")));
                schema.filter(SchemaOutlook::upgrades)
                        .ifPresent(outlook -> warnOfOlderNodes(loaded, name, outlook, out));
                // The data folder's own SQLite store, left with jobs to run by a switch of store.url (tryout41 F11).
                LeftBehindJobs.of(loaded.store())
                        .ifPresent(left -> out.println(name + ": warning: " + left.describe(loaded.store().describe())));
                // And the other way round: a store used before on this data folder, as its mark records it (switch41 F2).
                OtherStoreJobs.of(loaded.store(), () -> OtherStoreJobs.installationOf(loaded.store())).forEach(
                        other -> out.println(name + ": warning: " + other.describe(loaded.store().describe())));
                // Jobs an older build stored of rules this build refuses, which it cancels instead of running (tryout42 F7),
                // or with payload values it refuses, which it ends FAILED (values43 V2).
                if (unusable.isEmpty() && !refused) {
                    RefusedStoredJobs.read(loaded.store())
                            .ifPresent(jobs -> out.println(name + ": warning: " + jobs.describe()));
                }
                rulesFile = rules != null ? rules : loaded.rulesFile();
                defaultWorkdir = loaded.launcher().defaultWorkdir();
                engine = loaded.engine();
                // A store that cannot be reached is said above; asking it for its nodes would wait for it again.
                checked = unusable.isEmpty() ? loaded : null;
                wouldNotStart = unusable.isPresent();
                checkedName = name;
            } catch (ConfigException e) {
                err.println(e.getMessage());
                problems += e.problems().size();
                ofTheMachine += e.ofTheMachineCount();
                notRead += e.notReadCount();
            }
        }
        if (rulesFile != null) {
            try {
                RuleSet set = new RuleSetLoader(Clock.systemUTC()).load(rulesFile);
                out.println(rulesFile + ": ok (" + set.size() + " rule(s)"
                        + (set.size() == 0 ? "" : ": " + String.join(", ", set.ruleNames())) + ")");
                MachineWarnings.print(set, defaultWorkdir, engine, out);
                RulesFingerprint fingerprint = RulesFingerprint.of(set);
                out.println(rulesFile + ": rules fingerprint " + fingerprint.shortForm() + " (in a cluster, every node"
                        + " must have the same)");
                if (checked != null) {
                    compareWithRunningNodes(checked, checkedName, rulesFile, fingerprint, out);
                }
            } catch (RuleException e) {
                err.println(e.getMessage());
                problems += e.problems().size();
                notRead += e instanceof UnreadableRulesException ? e.problems().size() : 0;
            }
        }
        out.flush();
        err.flush();
        if (problems > 0) {
            int mistakes = problems - ofTheMachine - notRead;
            List<String> notMistakes = new java.util.ArrayList<>(2);
            if (ofTheMachine > 0) {
                notMistakes.add("buildhook cannot write in " + ofTheMachine + " folder(s) the configuration names (their"
                        + " mount or owner is wrong, not the file: see above)");
            }
            if (notRead > 0) {
                notMistakes.add(notRead + " file(s) named are not there or cannot be read (see above)");
            }
            String besides = String.join(", and ", notMistakes);
            boolean rulesAlone = rules != null && config == null;
            err.println(mistakes == 0 ? (rulesAlone ? "no mistake found, but " + besides
                    : "'serve' would not start: the configuration has no mistake, but " + besides)
                    : mistakes + " mistake(s) found" + (besides.isEmpty() ? "" : ", and " + besides));
            err.flush();
            // tryout53 F2, fix55b: folders it cannot write in and files not there or unreadable, with no mistake
            // besides, are the machine's fault, which a restart of serve may find mended (its exit 3 too).
            return mistakes == 0 ? ExitCodes.UNAVAILABLE : ExitCodes.FAILED;
        }
        if (refused) {
            // A store a newer build migrated: the start refuses it wherever it runs (exit 3), with or without --strict.
            err.println("'serve' would not start now: see the error above");
            err.flush();
            return ExitCodes.UNAVAILABLE;
        }
        if (strict && wouldNotStart) {
            // tryout19 F7: 'check && restart' went ahead although check said serve would not start.
            err.println("'serve' would not start now: see the warning above (--strict)");
            err.flush();
            return ExitCodes.UNAVAILABLE;
        }
        return ExitCodes.OK;
    }

    /**
     * PostgreSQL: the nodes running on a store the checked build's start would upgrade (tryout32 F8). They run an older
     * build (a node of this one would have upgraded it), which cannot open the upgraded schema: a warning naming them,
     * with deploying.md#upgrading step 4. Nothing when none runs or they cannot be read (the store's reach is said
     * above).
     */
    private static void warnOfOlderNodes(BuildhookConfig config, String name, SchemaOutlook outlook, PrintWriter out) {
        Optional<List<NodeLeases.NodeRules>> read = StoreReachability.runningNodesRules(config.store(),
                config.engine().deadNodeLimit());
        if (read.isEmpty() || read.get().isEmpty()) {
            return;
        }
        out.println(name + ": warning: " + read.get().size() + " node(s) run on this store at schema version "
                + outlook.version() + ": " + read.get().stream().map(NodeLeases.NodeRules::describe)
                        .collect(java.util.stream.Collectors.joining(", "))
                + ". They run a buildhook older than this one, and 'serve' of this build would upgrade the schema to "
                + outlook.latest() + " at its start, which theirs cannot open: stop every node before the first new one"
                + " starts (docs/deploying.md#upgrading, step 4)");
    }

    /**
     * PostgreSQL: the running nodes whose rules differ from the file checked (a warning: each node gives
     * the stored jobs its own file's limits, tryout17 F4), or that every running node has it; nothing
     * when no node runs, the store cannot be reached (said above) or no node of this version ever started
     * on it. Nodes of older versions record no fingerprint: named in a note, never compared.
     */
    private static void compareWithRunningNodes(BuildhookConfig config, String name, Path rulesFile,
            RulesFingerprint fingerprint, PrintWriter out) {
        Optional<List<NodeLeases.NodeRules>> read = StoreReachability.runningNodesRules(config.store(),
                config.engine().deadNodeLimit());
        if (read.isEmpty() || read.get().isEmpty()) {
            return;
        }
        List<NodeLeases.NodeRules> nodes = read.get();
        List<String> unknown = nodes.stream().filter(n -> n.fingerprint().isEmpty()).map(NodeLeases.NodeRules::describe)
                .toList();
        if (!unknown.isEmpty()) {
            out.println(name + ": note: running node(s) " + String.join(", ", unknown) + " record no rules fingerprint"
                    + " (a buildhook older than this one): their rules are not compared");
        }
        Optional<RulesDisagreement> disagreement = RulesDisagreement.among(null, fingerprint, nodes);
        if (disagreement.isPresent()) {
            out.println(name + ": warning: " + disagreement.get().others().size() + " running node(s) have other rules"
                    + " than " + rulesFile + " (fingerprint " + fingerprint.shortForm() + "): "
                    + disagreement.get().describeOthers() + ". " + RulesDisagreement.WHY_IT_MATTERS + ": "
                    + RulesDisagreement.WHAT_TO_DO);
        } else if (unknown.size() < nodes.size()) {
            out.println(name + ": every running node that records its rules has these ("
                    + nodes.stream().filter(n -> n.fingerprint().isPresent()).map(NodeLeases.NodeRules::nodeId)
                            .collect(java.util.stream.Collectors.joining(", ")) + ")");
        }
    }

    /**
     * The folders 'serve' writes before any job (the payload folder, {@code runner.log-dir}) that it could not
     * write, looked at without writing (final18 F1): 'serve' would start, store deliveries and start no job.
     * A warning, not a mistake: check may run as another user or on another machine than 'serve'.
     */
    private static void warnAboutNodeFolders(BuildhookConfig config, String name, PrintWriter out) {
        Map<String, Path> folders = new java.util.LinkedHashMap<>();
        folders.put("the payload folder", config.dataDir().resolve("payloads"));
        folders.put("runner.log-dir", config.launcher().logDirectory());
        folders.forEach((what, folder) -> NodeFolders.whyNotWritable(folder).ifPresent(why -> out.println(name
                + ": warning: this user cannot write " + what + " " + folder + " (" + why + "): 'serve' would store"
                + " deliveries but start no job until it can; free space there, make it writable for the user that"
                + " runs buildhook (a read-only remount, its owner or mode), or move away a file that is where a folder"
                + " goes (a check run as another user may ignore this)")));
    }
}
