package org.buildhook.runner.rules;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Where a file that must be UTF-8 (the rules file, buildhook.yaml) is not: its first byte that is no part of a UTF-8
 * character, as {@code file:line:column}, like every other mistake (tryout47b F19: it said only "not UTF-8
 * text", and in a 300-line file the operator had to hunt for an editor's Latin-1 'é').
 */
public final class Utf8Text {

    private Utf8Text() {
    }

    /**
     * The problem at the first byte of {@code bytes} that is not UTF-8, or empty when they all are.
     *
     * @param file how problems name the file
     * @param what the file's kind for the message, e.g. {@code "the rules file"}
     * @return {@code file:line:column} (1-based; the column counts characters, as the YAML problems' do) of that byte,
     *         and that the file must be saved as UTF-8; never the byte itself, which may be one of a secret
     */
    public static Optional<Problem> firstMalformed(String file, byte[] bytes, String what) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(Math.max(16, bytes.length));
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
            if (!result.isError()) {
                return Optional.empty();
            }
        }
        int at = in.position();
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < at; i++) {
            if (bytes[i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        String before = new String(bytes, lineStart, at - lineStart, StandardCharsets.UTF_8);
        int column = before.codePointCount(0, before.length()) + 1;
        // The byte itself is not shown: it may be one of a secret written inline (review48 F8).
        return Optional.of(new Problem(file, line, column, "a byte that is not UTF-8 (not shown: the file may hold"
                + " secrets): " + what + " must be saved as UTF-8 text (an editor saving Latin-1 or Windows-1252 writes"
+ " 'é' as the one byte 0xE9; save it again choosing UTF-8, or convert it: iconv -f latin1 -t utf-8)"));
    }
}
