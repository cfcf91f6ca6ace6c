package org.buildhook.runner.rules;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.Objects;
import org.buildhook.core.BoundedFile;
import org.buildhook.core.FileTooLargeException;
import org.buildhook.core.IoProblems;

/**
 * Reads and validates a rules file into a {@link RuleSet}. Either the whole file is good, or a
 * {@link RuleException} lists every problem found, each with file, line and column.
 */
public final class RuleSetLoader {


    private final Clock clock;

    public RuleSetLoader(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * @throws UnreadableRulesException when the file cannot be read (missing, unreadable, a folder, over
     *                                  {@link YamlTreeReader#MAX_FILE_BYTES})
     * @throws RuleException            when it has any mistake
     */
    public RuleSet load(Path file) {
        byte[] bytes;
        try {
            bytes = BoundedFile.read(file, YamlTreeReader.MAX_FILE_BYTES);
        } catch (FileTooLargeException e) {
            throw new UnreadableRulesException(new Problem(file.toString(), 0, 0,
                    "cannot read the rules file: " + e.getMessage() + "; check that this names the rules file: one is"
                    + " read whole, and " + BoundedFile.size(YamlTreeReader.MAX_FILE_BYTES) + " holds tens of"
                    + " thousands of rules"));
        } catch (IOException e) {
            throw new UnreadableRulesException(new Problem(file.toString(), 0, 0,
                    "cannot read the rules file: " + IoProblems.describe(e)));
        }
        Optional<Problem> notUtf8 = Utf8Text.firstMalformed(file.toString(), bytes, "the rules file");
        if (notUtf8.isPresent()) {
            throw new RuleException(List.of(notUtf8.get()));
        }
        return parse(file, new String(bytes, StandardCharsets.UTF_8));
    }

    /**
     * Validates {@code text} as if read from {@code source} (which names it in problems).
     *
     * @throws RuleException listing every mistake
     */
    public RuleSet parse(Path source, String text) {
        ProblemCollector problems = new ProblemCollector(source.toString());
        Optional<YamlNode> root = new YamlTreeReader(problems).read(text);
        if (root.isEmpty() && problems.isEmpty()) {
            RulesReader.refuseEmpty(problems);
        }
        RulesReader reader = new RulesReader(problems);
        List<Rule> rules = root.map(reader::read).orElse(List.of());
        problems.throwIfAny();
        return new RuleSet(rules, reader.capacities(), reader.disabled(), problems.warnings(), problems.onceKeys(),
                problems.jobPageUses(), source, clock.instant());
    }
}
