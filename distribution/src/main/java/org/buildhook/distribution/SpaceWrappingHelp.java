package org.buildhook.distribution;

import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Help;
import picocli.CommandLine.Help.Ansi.Text;
import picocli.CommandLine.Help.Column;
import picocli.CommandLine.Help.ColorScheme;
import picocli.CommandLine.Help.TextTable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Picocli's help, laid out by picocli, but wrapped only at spaces.
 *
 * <p>Picocli wraps with {@link java.text.BreakIterator#getLineInstance()}, which also breaks after
 * {@code .}, {@code :}, {@code ,}, {@code ;} or {@code ?} before a letter: {@code send}'s usage line
 * showed {@code [PAYLOAD.} and {@code json]} on two lines, {@code check}'s description
 * {@code file:} and {@code line:column}, and a URL could be cut after {@code http:}; an operator who
 * copies such a line gets a broken command. Picocli has no setting for its break rules, so this help
 * (installed with {@link CommandLine#setHelpFactory}) hands picocli's tables (usage line, description,
 * header, footer, options, parameters, subcommands) a {@link TextTable}
 * that cuts each wrapped value into pieces at spaces before picocli places them; a single word wider
 * than its column is still cut by picocli (none of ours is). The layout, widths, indents and colours
 * stay picocli's.
 */
final class SpaceWrappingHelp extends Help {

    SpaceWrappingHelp(CommandSpec spec, ColorScheme colorScheme) {
        super(spec, colorScheme);
    }

    private int width() {
        return commandSpec().usageMessage().width();
    }

    @Override
    protected String insertSynopsisCommandName(int synopsisHeadingLength, Text details) {
        String name = commandSpec().qualifiedName();
        // As picocli: wrapped lines start under the first element after the command's name.
        int indent = synopsisHeadingLength + name.length() + 1;
        if (indent > width() * commandSpec().usageMessage().synopsisAutoIndentThreshold()) {
            int fixed = commandSpec().usageMessage().synopsisIndent();
            indent = Math.min(fixed < 0 ? synopsisHeadingLength : fixed, (int) (width() * 0.9));
        }
        TextTable table = new Table(colorScheme(), new Column(width(), 0, Column.Overflow.WRAP));
        table.indentWrappedLines = indent;
        Text padding = colorScheme().text("X".repeat(synopsisHeadingLength));
        table.addRowValues(padding.concat(colorScheme().commandText(name)).concat(details));
        return table.toString().substring(synopsisHeadingLength);
    }

    @Override
    public String description(Object... params) {
        return paragraphs(commandSpec().usageMessage().description(), params);
    }

    @Override
    public String header(Object... params) {
        return paragraphs(commandSpec().usageMessage().header(), params);
    }

    @Override
    public String footer(Object... params) {
        return paragraphs(commandSpec().usageMessage().footer(), params);
    }

    @Override
    public Layout createDefaultLayout(List<OptionSpec> options, List<PositionalParamSpec> positionals,
            ColorScheme scheme) {
        TextTable picocli = TextTable.forDefaultColumns(scheme,
                calcLongOptionColumnWidth(options, positionals, scheme), width());
        Table table = new Table(scheme, picocli.columns());
        table.indentWrappedLines = picocli.indentWrappedLines;
        return new Layout(scheme, table, createDefaultOptionRenderer(), createDefaultParameterRenderer());
    }

    /** As picocli's: each command's names and the first line of its header or description. */
    @Override
    public String commandList(Map<String, Help> subcommands) {
        if (subcommands.isEmpty()) {
            return "";
        }
        int longest = Math.min(subcommands.keySet().stream().mapToInt(String::length).max().orElse(0), width() / 2);
        TextTable table = new Table(colorScheme(), new Column(longest + 2, 2, Column.Overflow.SPAN),
                new Column(width() - (longest + 2), 2, Column.Overflow.WRAP));
        for (Help help : subcommands.values()) {
            CommandLine.Model.UsageMessageSpec usage = help.commandSpec().usageMessage();
            String first = usage.header().length > 0 ? usage.header()[0]
                    : usage.description().length > 0 ? usage.description()[0] : "";
            Text[] lines = colorScheme().text(format(first)).splitLines();
            for (int i = 0; i < lines.length; i++) {
                table.addRowValues(i == 0 ? help.commandNamesText(", ") : colorScheme().text(""), lines[i]);
            }
        }
        return table.toString();
    }

    /** Each line as picocli's {@code join}: formatted, split at its line breaks, wrapped at the width. */
    private String paragraphs(String[] lines, Object... params) {
        if (lines == null || lines.length == 0) {
            return "";
        }
        TextTable table = new Table(colorScheme(), new Column(width(), 0, Column.Overflow.WRAP));
        table.indentWrappedLines = 0;
        for (String line : lines) {
            for (Text text : colorScheme().text(format(line, params)).splitLines()) {
                table.addRowValues(text);
            }
        }
        return table.toString();
    }

    private static String format(String line, Object... params) {
        try {
            return String.format(line, params);
        } catch (java.util.IllegalFormatException e) {
            return line;
        }
    }

    /** Picocli's table, but a wrapped value is cut at its spaces only. */
    static final class Table extends TextTable {

        private final ColorScheme scheme;

        Table(ColorScheme scheme, Column... columns) {
            super(scheme, columns);
            this.scheme = scheme;
        }

        @Override
        public Cell putValue(int row, int col, Text value) {
            Column column = columns()[col];
            if (column.overflow != Column.Overflow.WRAP || value == null) {
                return super.putValue(row, col, value);
            }
            String plain = value.plainString();
            int start = 0;
            int room = column.width - column.indent;
            String prefix = "";
            Cell cell = new Cell(col, row);
            while (true) {
                int end = plain.length();
                if (end - start > room) {
                    // As picocli: a word followed by a space fits only with its space.
                    int space = plain.lastIndexOf(' ', start + room - 1);
                    end = space > start ? space : end;
                }
                Text piece = value.substring(start, end);
                cell = super.putValue(row, col, prefix.isEmpty() ? piece : scheme.text(prefix).concat(piece));
                start = end;
                while (start < plain.length() && plain.charAt(start) == ' ') {
                    start++;
                }
                if (start >= plain.length()) {
                    return cell;
                }
                addEmptyRow();
                row = cell.row + 1;
                prefix = " ".repeat(indentWrappedLines);
                room = column.width - column.indent - indentWrappedLines;
            }
        }
    }
}
