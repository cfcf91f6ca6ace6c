package org.buildhook.servlet.config;

import org.buildhook.core.BoundedFile;
import org.buildhook.core.FileTooLargeException;
import org.buildhook.core.IoProblems;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.buildhook.runner.rules.YamlNode;

/**
 * Reads a secret written as {@code {file: path}}, {@code {env: NAME}}, {@code {value: text}} or a
 * plain value (the last two with a warning). Messages name the file or the variable, never the
 * secret; a node that may be a secret is never described with its text.
 */
final class SecretReader {

    private final Nodes nodes;
    private final Map<String, String> environment;
    private final Path baseDir;
    private final Warnings warnings;
    private final Set<String> environmentNames = new LinkedHashSet<>();
    private final java.util.function.Predicate<String> needed;
    private final boolean absentStandsIn;

    SecretReader(Nodes nodes, Map<String, String> environment, Path baseDir, Warnings warnings) {
        this(nodes, environment, baseDir, warnings, path -> true, false);
    }

    /**
     * @param needed which secrets (by key path, e.g. {@code admin.token}) are read; any other stands
     *               in as a random value held in memory, its file or variable not even looked at — for
     *               a command that needs only some of them (an admin command needs the admin token only)
     * @param absentStandsIn true: a needed secret whose file does not exist or cannot be read, or whose
     *               variable is not set, stands in as a random value instead of being a mistake — for a
     *               command that only looks at the rest of the file ({@code buildhook test}), which may run
     *               where the server's secrets are not (another user, another machine)
     */
    SecretReader(Nodes nodes, Map<String, String> environment, Path baseDir, Warnings warnings,
            java.util.function.Predicate<String> needed, boolean absentStandsIn) {
        this.nodes = nodes;
        this.environment = environment;
        this.baseDir = baseDir;
        this.warnings = warnings;
        this.needed = needed;
        this.absentStandsIn = absentStandsIn;
    }

    /**
     * Whether the secret at {@code path} is the real one whenever {@link #read} returns one, never a
     * random stand-in: then what it opens (a keystore) can be tried with it.
     */
    boolean readsTheRealSecret(String path) {
        return needed.test(path) && !absentStandsIn;
    }

    /** The secret's text, trailing newlines removed; empty after a recorded problem. */
    Optional<String> read(YamlNode node, String path) {
        if (!needed.test(path)) {
            return Optional.of(GeneratedSecret.fresh());
        }
        if (node instanceof YamlNode.Scalar && !Nodes.isNull(node)) {
            String text = ((YamlNode.Scalar) node).text();
            if (org.buildhook.runner.rules.Suggestions.closest(text, List.of("generate")).isPresent()) {
                // admin.token's 'generate' copied here would otherwise be a secret anyone could guess.
                nodes.problem(node.location(), path, "a secret cannot be generated here: only admin.token takes"
                        + " 'generate' (an endpoint gets a generated secret only as the default endpoint, when the"
                        + " file has no endpoints section); write {file: PATH} or {env: NAME}");
                return Optional.empty();
            }
            return inline(node, text, path);
        }
        if (!(node instanceof YamlNode.Mapping)) {
            nodes.problem(node.location(), path, "expected {file: PATH}, {env: NAME} or {value: TEXT}, got " + node.kind());
            return Optional.empty();
        }
        YamlNode.Mapping mapping = (YamlNode.Mapping) node;
        nodes.onlyKeys(mapping, ConfigKeys.SECRET, path);
        List<YamlNode.Entry> forms = mapping.entries().values().stream()
                .filter(e -> ConfigKeys.SECRET.contains(e.key())).toList();
        if (forms.size() != 1) {
            if (forms.isEmpty() && mapping.entries().size() > 0) {
                return Optional.empty(); // the unknown key is already reported
            }
            nodes.problem(node.location(), path, "write exactly one of file:, env: or value:");
            return Optional.empty();
        }
        YamlNode.Entry form = forms.get(0);
        String formPath = path + "." + form.key();
        if (form.key().equals("value")) {
            if (!(form.value() instanceof YamlNode.Scalar) || Nodes.isNull(form.value())) {
                nodes.problem(form.value().location(), formPath, "expected the secret text, got " + form.value().kind());
                return Optional.empty();
            }
            return inline(form.value(), ((YamlNode.Scalar) form.value()).text(), formPath);
        }
        Optional<String> where = nodes.text(form.value(), formPath);
        if (where.isEmpty()) {
            return Optional.empty();
        }
        return form.key().equals("file") ? fromFile(form.value(), where.get(), formPath) : fromEnv(form.value(), where.get(), formPath);
    }

    private Optional<String> inline(YamlNode node, String text, String path) {
        if (text.isEmpty()) {
            nodes.problem(node.location(), path, "the secret is empty");
            return Optional.empty();
        }
        warnings.add(node.location(), path, "inline secret; prefer file: or env: (a file that holds secrets must not be checked in)");
        return Optional.of(text);
    }

    /** The reason (permission, a folder…) names the file, never its content. */
    private Optional<String> unreadable(YamlNode node, String path, Path file, IOException e) {
        if (absentStandsIn) {
            return Optional.of(GeneratedSecret.fresh());
        }
        nodes.notReadProblem(node.location(), path, "cannot read secret file " + file + " (" + IoProblems.describe(e)
                + (e instanceof FileTooLargeException ? "); check that this names the file that holds the secret itself"
                : "); check that it is a readable file"));
        return Optional.empty();
    }

    private Optional<String> fromFile(YamlNode node, String name, String path) {
        Path file = baseDir.resolve(name).normalize();
        String content;
        try {
            content = BoundedFile.readString(file, BoundedFile.SECRET_FILE_BYTES);
        } catch (NoSuchFileException e) {
            if (absentStandsIn) {
                return Optional.of(GeneratedSecret.fresh());
            }
            nodes.notReadProblem(node.location(), path, "secret file " + file + " not found");
            return Optional.empty();
        } catch (IOException e) {
            return unreadable(node, path, file, e);
        } catch (java.io.UncheckedIOException e) {
            return unreadable(node, path, file, e.getCause());
        }
        String secret = stripTrailingNewlines(content);
        if (secret.isEmpty()) {
            nodes.problem(node.location(), path, "secret file " + file + " is empty");
            return Optional.empty();
        }
        warnIfPadded(node, path, secret, "the secret in " + file);
        return Optional.of(secret);
    }

    /**
     * Every environment variable named as a secret's source so far ({@code {env: NAME}}), set or
     * not: jobs must never inherit them.
     */
    Set<String> environmentNames() {
        return Set.copyOf(environmentNames);
    }

    private Optional<String> fromEnv(YamlNode node, String name, String path) {
        environmentNames.add(name);
        String value = environment.get(name);
        if (value == null && absentStandsIn) {
            return Optional.of(GeneratedSecret.fresh());
        }
        if (value == null) {
            nodes.problem(node.location(), path, "environment variable " + name + " is not set");
            return Optional.empty();
        }
        String secret = stripTrailingNewlines(value);
        if (secret.isEmpty()) {
            nodes.problem(node.location(), path, "environment variable " + name + " is empty");
            return Optional.empty();
        }
        warnIfPadded(node, path, secret, "the secret in environment variable " + name);
        return Optional.of(secret);
    }

    /**
     * A space or tab at either end is kept as part of the secret (only line ends are removed), but is
     * almost always a copy-and-paste accident that makes every signature fail: said, without the secret.
     */
    private void warnIfPadded(YamlNode node, String path, String secret, String what) {
        boolean end = Character.isWhitespace(secret.charAt(secret.length() - 1));
        boolean start = Character.isWhitespace(secret.charAt(0));
        if (end || start) {
            warnings.add(node.location(), path, what + (end ? " ends" : " starts") + " with a space or tab, which is"
                    + " kept as part of the secret: " + whatItBreaks(path) + "; remove it if it is an accident");
        }
    }

    /** What a secret padded by accident breaks, by what it is for (tryout53 F5: every one spoke of JobServ). */
    private static String whatItBreaks(String path) {
        if (path.startsWith("admin.token")) {
            return "the admin API, the admin commands and the status page refuse (401) a token given without it";
        }
        if (path.startsWith("store.password")) {
            return "PostgreSQL refuses the login unless the role's password has it too";
        }
        if (path.startsWith("server.tls.password")) {
            return "the keystore does not open unless its password has it too";
        }
        return "JobServ's signatures will not match unless the factory's secret has it too";
    }

    /** Editors and {@code echo} end files with a newline that is not part of the secret. */
    static String stripTrailingNewlines(String text) {
        int end = text.length();
        while (end > 0 && (text.charAt(end - 1) == '\n' || text.charAt(end - 1) == '\r')) {
            end--;
        }
        return text.substring(0, end);
    }
}
