package org.buildhook.runner.rules;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.buildhook.core.Utf8;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.scanner.ScannerImpl;
import org.yaml.snakeyaml.tokens.ScalarToken;
import org.yaml.snakeyaml.tokens.Token;

/**
 * Reads YAML text into a {@link YamlNode} tree, walking Jackson's YAML tokens so every node keeps
 * the line and column where it was written. Syntax errors and duplicate keys become
 * {@link Problem}s in the collector instead of exceptions.
 */
public final class YamlTreeReader {

    /** SnakeYAML's default cap (3 MiB) is too small for generated files of 10,000 rules. */
    static final int MAX_CODE_POINTS = 64 * 1024 * 1024;

    /**
     * The most bytes a rules or configuration file is read with ({@link org.buildhook.core.BoundedFile}): a generated
     * file of 10,000 rules is about 3 MiB. Below {@link #MAX_CODE_POINTS}, so that {@code /dev/zero} or a large file
     * named by mistake is refused in words also by a JVM with a small heap ({@code -Xmx64m}), not with an
     * {@code OutOfMemoryError} (review55b F5).
     */
    public static final int MAX_FILE_BYTES = 16 * 1024 * 1024;

    private static final YAMLFactory FACTORY = YAMLFactory.builder().loaderOptions(loaderOptions()).build();

    private final ProblemCollector problems;
    private final String secondDocumentHint;
    /** The text being read, whose line {@code i + 1} starts at {@code lineStarts[i]}; null for a text {@link #written} cannot slice. */
    private String source;
    private int[] lineStarts;

    YamlTreeReader(ProblemCollector problems) {
        this(problems, "the rules file holds a second YAML document (after '---'): put every rule under the one 'rules:' list");
    }

    /**
     * A reader for any located YAML file (the configuration file uses it too).
     *
     * @param secondDocumentHint the problem recorded when the text holds a second document
     */
    public YamlTreeReader(ProblemCollector problems, String secondDocumentHint) {
        this.problems = problems;
        this.secondDocumentHint = secondDocumentHint;
    }

    /** The document's root, or empty when the text holds no document (or a syntax error). */
    public Optional<YamlNode> read(String text) {
        lines(text);
        try (JsonParser parser = FACTORY.createParser(text)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                return Optional.empty();
            }
            YamlNode root;
            try {
                root = readValue(parser);
                if (parser.nextToken() != null) {
                    problems.add(location(parser.currentTokenLocation()), secondDocumentHint);
                }
            } catch (StreamConstraintsException e) {
                beyondLimits(e, parser);
                return Optional.empty();
            }
            return Optional.of(root);
        } catch (JsonProcessingException e) {
            syntaxError(e, text);
            return Optional.empty();
        } catch (IOException e) {
            // Reading from a String cannot fail for I/O reasons; keep the cause if it does.
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * SnakeYAML knows where the parser noticed the mistake and where the construct it was reading
     * began (an unclosed '[' is noticed lines later); both go into the message.
     */
    private void syntaxError(JsonProcessingException e, String text) {
        if (e.getCause() instanceof MarkedYAMLException) {
            MarkedYAMLException marked = (MarkedYAMLException) e.getCause();
            Mark problemAt = marked.getProblemMark();
            Mark contextAt = marked.getContextMark();
            Optional<Token> unclosed = problemAt == null ? Optional.empty() : quotedValueRunningOnTo(text, problemAt);
            if (unclosed.isPresent()) {
                Mark opened = unclosed.get().getStartMark();
                // Just after the quote that closed it: its 0-based column is that quote's 1-based one.
                Mark ran = unclosed.get().getEndMark();
                char quote = ((ScalarToken) unclosed.get()).getStyle() == DumperOptions.ScalarStyle.SINGLE_QUOTED
                        ? '\'' : '"';
                problems.add(new YamlNode.Location(opened.getLine() + 1, opened.getColumn() + 1),
                        "YAML syntax error: the quoted value that opens here with " + quote + " runs on to the "
                        + quote + " at line " + (ran.getLine() + 1) + ", column " + ran.getColumn() + ": a closing " + quote + " is likely"
                        + " missing on line " + (opened.getLine() + 1) + " (the parser noticed it only at line "
                        + (problemAt.getLine() + 1) + ", column " + (problemAt.getColumn() + 1) + ": "
                        + marked.getProblem() + ")");
                return;
            }
            Optional<String> placeholder = problemAt == null ? Optional.empty()
                    : unquotedPlaceholder(text, problemAt.getIndex());
            if (placeholder.isPresent()) {
                problems.add(new YamlNode.Location(problemAt.getLine() + 1, problemAt.getColumn()),
                        "a placeholder in a [ ] or { } list must be quoted: write \"" + placeholder.get() + "\""
                        + " (unquoted, YAML reads its '{' as the start of a mapping; the parser said: "
                        + marked.getProblem() + ")");
                return;
            }
            String message = "YAML syntax error: " + marked.getProblem();
            if (marked.getContext() != null && contextAt != null) {
                message += " (" + marked.getContext() + " that starts at line " + (contextAt.getLine() + 1)
                        + ", column " + (contextAt.getColumn() + 1) + ")";
            }
            problems.add(problemAt == null ? null
                    : new YamlNode.Location(problemAt.getLine() + 1, problemAt.getColumn() + 1),
                    message + whatToCheck(marked.getProblem() + " " + marked.getContext()));
            return;
        }
        JsonLocation at = e.getLocation();
        String reason = e.getOriginalMessage().lines().findFirst().orElse("").trim();
        problems.add(at == null ? null : location(at), "YAML syntax error: " + reason + whatToCheck(reason));
    }

    /**
     * A document past one of Jackson's {@link com.fasterxml.jackson.core.StreamReadConstraints}, said where the parser
     * is: its exception has no location, and its words name Jackson's API (review55b F5: "Document nesting depth (1001)
     * exceeds the maximum allowed (1000, from `StreamReadConstraints.getMaxNestingDepth()`)", then "check the
     * indentation … of this line" of no line).
     */
    private void beyondLimits(StreamConstraintsException e, JsonParser parser) {
        YamlNode.Location at = location(parser.currentTokenLocation());
        int maxDepth = parser.streamReadConstraints().getMaxNestingDepth();
        if (parser.getParsingContext() != null && parser.getParsingContext().getNestingDepth() > maxDepth) {
            problems.add(at, "lists and mappings are nested more than " + maxDepth + " levels deep here, more than"
                    + " buildhook reads (its files need a few levels): check for a '[' or '{' written by mistake, or a"
                    + " generator that went wrong");
            return;
        }
        String reason = e.getOriginalMessage().lines().findFirst().orElse("").trim();
        problems.add(at, "YAML too large to read here: " + reason.replaceAll(", from `[^`]*`", ""));
    }

    /**
     * The placeholder written unquoted in a flow list or mapping where the parser noticed a mistake (tryout47b F10:
     * {@code command: [/opt/deploy.sh, ${build.id}]} was answered "check that every '[' and '{' is closed and that list
     * items are separated by ','", of brackets that were closed): the parser stops at the {@code {} after a {@code $}.
     * Its text up to the {@code }} on that line, or empty when the mistake is elsewhere.
     */
    static Optional<String> unquotedPlaceholder(String text, int problemIndex) {
        if (problemIndex < 1 || problemIndex >= text.length() || text.charAt(problemIndex) != '{'
                || text.charAt(problemIndex - 1) != '$') {
            return Optional.empty();
        }
        int end = problemIndex;
        while (end < text.length() && text.charAt(end) != '}' && text.charAt(end) != '\n') {
            end++;
        }
        if (end >= text.length() || text.charAt(end) != '}') {
            return Optional.empty();
        }
        return Optional.of(text.substring(problemIndex - 1, end + 1));
    }

    /**
     * The quoted scalar just before where the parser noticed a mistake, when it spans lines (tryout33 F8: a
     * {@code "} left unclosed on line 7 swallowed the text up to the next {@code "} on line 10, where the parser
     * reported a mistake about brackets). SnakeYAML's scanner gives each token's start and end; scanning stops at
     * the token that starts at or after the problem, or at the scanner's own error.
     */
    private static Optional<Token> quotedValueRunningOnTo(String text, Mark problemAt) {
        Token before = null;
        try {
            ScannerImpl scanner = new ScannerImpl(new StreamReader(text), loaderOptions());
            while (scanner.checkToken()) {
                Token token = scanner.getToken();
                if (token.getStartMark().getIndex() >= problemAt.getIndex()) {
                    break;
                }
                before = token;
            }
        } catch (RuntimeException e) {
            // The scanner's own error comes at or after the parser's: what was read before it is enough.
        }
        if (before instanceof ScalarToken && !((ScalarToken) before).getPlain()
                && before.getStartMark().getLine() < before.getEndMark().getLine()) {
            DumperOptions.ScalarStyle style = ((ScalarToken) before).getStyle();
            if (style == DumperOptions.ScalarStyle.DOUBLE_QUOTED || style == DumperOptions.ScalarStyle.SINGLE_QUOTED) {
                return Optional.of(before);
            }
        }
        return Optional.empty();
    }

    /**
     * The parser's words describe its own state ("expected <block end>"); the operator needs the usual
     * cause: indentation, tabs, an unclosed bracket or an unquoted ': ' inside a value.
     */
    static String whatToCheck(String parserText) {
        String text = parserText.toLowerCase(java.util.Locale.ROOT);
        if (text.contains("'\\t'") || text.contains("tab")) {
            return "; indent with spaces only: YAML does not allow tabs for indentation";
        }
        if (text.contains("block") || text.contains("could not find expected ':'")) {
            return "; check the indentation of this line and the one before: keys of one mapping start in the same"
                    + " column, the '-' of one list line up, and a key's value is indented further than the key"
                    + " (spaces only)";
        }
        if (text.contains("mapping values are not allowed")) {
            return "; a value that contains ': ' must be quoted, or the line is indented too far";
        }
        if (text.contains("flow sequence") || text.contains("flow mapping") || text.contains("expected ','")) {
            return "; check that every '[' and '{' is closed and that list items are separated by ','";
        }
        return "; check the indentation (spaces only) and the quoting of this line";
    }

    private YamlNode readValue(JsonParser parser) throws IOException {
        YamlNode.Location at = location(parser.currentTokenLocation());
        JsonToken token = parser.currentToken();
        if (parser instanceof YAMLParser && ((YAMLParser) parser).isCurrentAlias()) {
            return alias(parser.getText(), at);
        }
        switch (token) {
            case START_OBJECT:
                return readMapping(parser, at);
            case START_ARRAY:
                return readSequence(parser, at);
            case VALUE_STRING:
                return new YamlNode.Scalar(at, text(parser.getText(), at), YamlNode.Scalar.Type.STRING,
                        written(at, location(parser.currentLocation())));
            case VALUE_NUMBER_INT:
                return new YamlNode.Scalar(at, parser.getText(), YamlNode.Scalar.Type.INTEGER);
            case VALUE_NUMBER_FLOAT:
                return new YamlNode.Scalar(at, parser.getText(), YamlNode.Scalar.Type.DECIMAL);
            case VALUE_TRUE: case VALUE_FALSE:
                return new YamlNode.Scalar(at, parser.getText(), YamlNode.Scalar.Type.BOOLEAN);
            case VALUE_NULL:
                return new YamlNode.Scalar(at, "", YamlNode.Scalar.Type.NULL);
            default:
                // Embedded binary (!!binary) and the like: keep the text, let the schema complain.
                return new YamlNode.Scalar(at, text(String.valueOf(parser.getText()), at), YamlNode.Scalar.Type.STRING);
        }
    }

    /**
     * An alias ({@code *name}) is refused: Jackson gives it as the bare text {@code name}, so an
     * unquoted glob such as {@code project: *-devel} would silently become the pattern
     * {@code -devel} and never match. Aliases are not resolved anywhere in buildhook's files, so
     * the mistake is named with what to write instead.
     */
    private YamlNode alias(String name, YamlNode.Location at) {
        problems.add(at, "'*" + name + "' is a YAML alias (a reference to an '&" + name + "' anchor), which"
                + " buildhook does not support; a value that starts with '*', such as a glob, must be quoted: \"*"
                + name + "\"");
        return new YamlNode.Scalar(at, "*" + name, YamlNode.Scalar.Type.STRING);
    }

    /**
     * The text, after saying where it holds a lone UTF-16 surrogate: YAML's {@code "\\uD800"} escape
     * gives one, which is no Unicode character. Written to the store or into a job's argv or
     * environment as UTF-8 it would become {@code ?} without a word, so the file is refused here,
     * where the operator can still see which value it was.
     */
    private String text(String value, YamlNode.Location at) {
        int lone = Utf8.unpairedSurrogate(value);
        if (lone >= 0) {
            problems.add(at, String.format(java.util.Locale.ROOT, "this text holds a lone UTF-16 surrogate"
                    + " (\\u%04X, character %d of the text), which is not a Unicode character and cannot reach a"
                    + " job as written; write the character itself, or both halves of its pair"
                    + " (for example \\uD83D\\uDE00)", (int) value.charAt(lone), lone + 1));
        }
        return value;
    }

    private YamlNode.Mapping readMapping(JsonParser parser, YamlNode.Location at) throws IOException {
        Map<String, YamlNode.Entry> entries = new LinkedHashMap<>();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            YamlNode.Location keyAt = location(parser.currentTokenLocation());
            String key = text(parser.currentName(), keyAt);
            parser.nextToken();
            YamlNode value = readValue(parser);
            if (entries.containsKey(key)) {
                problems.add(keyAt, "duplicate key '" + key + "' (the first is on line "
                        + entries.get(key).keyLocation().line() + ")");
                continue;
            }
            entries.put(key, new YamlNode.Entry(key, keyAt, value));
        }
        return new YamlNode.Mapping(at, entries);
    }

    private YamlNode.Sequence readSequence(JsonParser parser, YamlNode.Location at) throws IOException {
        List<YamlNode> items = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            items.add(readValue(parser));
        }
        return new YamlNode.Sequence(at, items);
    }

    /**
     * Where each line of {@code text} starts, for {@link #written}; none when it breaks lines otherwise than with
     * {@code \n} or {@code \r\n} (YAML 1.1 also with {@code \r}, NEL, LS and PS: rare, and then a scalar's parts are
     * placed at its start).
     */
    private void lines(String text) {
        source = null;
        lineStarts = null;
        List<Integer> starts = new ArrayList<>();
        starts.add(0);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\n') {
                starts.add(i + 1);
            } else if (c == '\u0085' || c == '\u2028' || c == '\u2029'
                    || c == '\r' && (i + 1 == text.length() || text.charAt(i + 1) != '\n')) {
                return;
            }
        }
        source = text;
        lineStarts = starts.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The characters of the file from {@code from} to {@code to} (1-based lines, columns counting characters as
     * YAML's marks do, not UTF-16 units), or null when they cannot be found.
     */
    private String written(YamlNode.Location from, YamlNode.Location to) {
        int start = offset(from);
        int end = offset(to);
        return start < 0 || end < start ? null : source.substring(start, end);
    }

    private int offset(YamlNode.Location at) {
        if (source == null || at.line() < 1 || at.line() > lineStarts.length || at.column() < 1) {
            return -1;
        }
        int lineStart = lineStarts[at.line() - 1];
        int lineEnd = at.line() < lineStarts.length ? lineStarts[at.line()] : source.length();
        try {
            int offset = source.offsetByCodePoints(lineStart, at.column() - 1);
            return offset <= lineEnd ? offset : -1;
        } catch (IndexOutOfBoundsException e) {
            return -1;
        }
    }

    private static LoaderOptions loaderOptions() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(MAX_CODE_POINTS);
        return options;
    }

    private static YamlNode.Location location(JsonLocation at) {
        return new YamlNode.Location(Math.max(at.getLineNr(), 0), Math.max(at.getColumnNr(), 0));
    }
}
