package org.buildhook.distribution;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.buildhook.runner.rules.RuleException;
import org.buildhook.runner.rules.UnreadableRulesException;
import org.buildhook.servlet.config.BuildhookConfig;
import org.buildhook.servlet.config.ConfigException;
import org.buildhook.servlet.config.ConfigLoader;

/**
 * Which configuration a command uses: {@code --config}, else {@code buildhook.config} /
 * {@code BUILDHOOK_CONFIG}, else the installation's {@code conf/buildhook.yaml}, else embedded defaults.
 */
final class Configs {

    private Configs() {
    }

    static Optional<Path> locate(Path flag) {
        if (flag != null) {
            return Optional.of(flag);
        }
        Optional<Path> configured = ConfigLoader.locate(null, System.getenv());
        if (configured.isPresent()) {
            return configured;
        }
        String home = System.getProperty("buildhook.home");
        if (home != null && Files.isRegularFile(Path.of(home, "conf", "buildhook.yaml"))) {
            return Optional.of(Path.of(home, "conf", "buildhook.yaml"));
        }
        return Optional.empty();
    }

    /** For {@code serve}: may generate {@code <data-dir>/webhook-secret} and {@code admin-token}. */
    static BuildhookConfig load(Path flag) {
        return load(flag, loader(Path.of("")), ExitCodes.CONFIGURATION);
    }

    /**
     * For {@code test}, which only looks at the configuration (its rules file, the jobs' default
     * working directory, its warnings): writes nothing, and does not need the server's secrets (an
     * unset {@code {env:}} variable or an unreadable secret file is no mistake), see
     * {@link ConfigLoader#forDryRun()}.
     */
    static BuildhookConfig read(Path flag) {
        return load(flag, loader(Path.of("")).forDryRun(), ExitCodes.UNAVAILABLE);
    }

    /**
     * For the admin commands: their defaults (data folder, server address) and the admin token
     * only; writes nothing, reads no other secret, and refuses only for a problem at a key they use
     * (not for a missing rules file: tryout53 F3), see {@link ConfigLoader#forClientCommands(String...)}.
     *
     * @param also further keys the command uses, as {@code runner.log-dir}
     */
    static BuildhookConfig readForAdmin(Path flag, String... also) {
        return load(flag, loader(Path.of("")).forClientCommands(also), ExitCodes.UNAVAILABLE);
    }

    static ConfigLoader loader(Path workingDirectory) {
        return new ConfigLoader(System.getenv(), workingDirectory.toAbsolutePath());
    }

    /**
     * @param mistakes the exit code for a configuration or rules file with mistakes: {@link ExitCodes#CONFIGURATION}
     *                 for {@code serve}, {@link ExitCodes#UNAVAILABLE} for the commands that only read it. A folder the
     *                 machine keeps buildhook from writing in, and a file the configuration names (or the
     *                 configuration file itself, or its rules file) that is not there or cannot be read, are
     *                 {@link ExitCodes#UNAVAILABLE} for every command: a restart may find them mended
     *                 ({@link ConfigException#restartMayMend()}).
     */
    private static BuildhookConfig load(Path flag, ConfigLoader loader, int mistakes) {
        try {
            return locate(flag).map(loader::load).orElseGet(loader::defaults);
        } catch (ConfigException e) {
            // tryout31 F4: a read-only data folder was headed "the configuration has mistakes"; the file was right.
            // tryout53 F3: a missing file it names is no mistake of its text either.
            throw new CommandFailure((e.ofTheMachineOnly() ? "cannot start: the configuration is right, but buildhook"
                    + " cannot write in " + (e.problems().size() == 1 ? "a folder" : "folders") + " it names:\n"
                    : e.notReadOnly() ? "the configuration names " + (e.problems().size() == 1 ? "a file that is"
                            : "files that are") + " not there or cannot be read:\n"
                    : "the configuration has mistakes:\n") + e.getMessage(),
                    e.restartMayMend() ? ExitCodes.UNAVAILABLE : mistakes);
        } catch (RuleException e) {
            throw new CommandFailure("cannot start: the rules file " + (e instanceof UnreadableRulesException
                    ? "cannot be read" : "has mistakes") + ":\n" + e.getMessage(),
                    e instanceof UnreadableRulesException ? ExitCodes.UNAVAILABLE : mistakes);
        }
    }
}
