package org.buildhook.runner.exec;

import java.nio.charset.StandardCharsets;

/**
 * A secret value written as a JSON string's content, in whichever of the escapes JSON allows its encoder picked for
 * each character (mask46): the character as it is, <code>&#92;uXXXX</code> (either hex case, even mixed; a character
 * outside the BMP as its surrogate pair, <code>&#92;uD83D&#92;uDE00</code>) or one of the short escapes
 * <code>\" \\ \/ \b \f \n \r \t</code>. Go's {@code encoding/json} writes {@code & < >} as
 * <code>&#92;u0026 &#92;u003c &#92;u003e</code>, Gson also {@code = '} as <code>&#92;u003d &#92;u0027</code>, Python's
 * {@code json.dumps} non-ASCII as <code>&#92;u00e4</code>, PHP {@code /} as {@code \/}; jq and Jackson make yet other
 * choices. Listing every combination as a string of its own explodes (two or three ways for
 * each character), so {@link LogMask} matches this form by walking the value: a {@code \} in the output must begin
 * an escape that decodes to the value's next character, any other byte must begin that character's UTF-8 bytes. A
 * {@code \} is never taken as itself (a JSON string cannot hold one unescaped), so each place of the output has one
 * reading and the walk never backtracks. The value as it is also matches (when it has no {@code \}); it is masked
 * anyway.
 *
 * <p>What decodes to the value is masked whole, between the quotes; what decodes to anything else (another string with
 * <code>&#92;u0026</code>) is left as it is. Read only once made; shared by the jobs with the same values
 * ({@link MaskTable}).
 */
final class JsonStringForm {

    /** {@link #match}: the output differs from every way of writing the value from there on. */
    static final int NO = -1;
    /** {@link #match}: the output ended while it still wrote the value (maybe inside an escape): wait for more. */
    static final int MORE = -2;

    /** The value's UTF-16 characters: what each escape must decode to. */
    private final char[] chars;
    /**
     * The UTF-8 bytes of the character (or surrogate pair) that starts at each index of {@link #chars}, written as it
     * is; {@code null} where it cannot be (a {@code \}, a low surrogate, a lone surrogate).
     */
    private final byte[][] raw;

    /**
     * @param value a secret value, at least {@value SecretNames#SHORTEST_MASKED_VALUE} characters long (the caller's
     *              floor), so it has a second character
     */
    JsonStringForm(String value) {
        this.chars = value.toCharArray();
        this.raw = new byte[chars.length][];
        for (int j = 0; j < chars.length; j++) {
            char c = chars[j];
            if (Character.isHighSurrogate(c) && j + 1 < chars.length && Character.isLowSurrogate(chars[j + 1])) {
                raw[j] = new String(chars, j, 2).getBytes(StandardCharsets.UTF_8);
            } else if (c != '\\' && !Character.isSurrogate(c)) {
                raw[j] = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
            }
        }
    }

    /**
     * The most bytes this form can take: six for each UTF-16 character (<code>&#92;u0041</code>; a pair's two escapes
     * are twelve bytes for its four of UTF-8). What the log may hold back.
     */
    int longest() {
        return 6 * chars.length;
    }

    /** The first byte of the value's first character as it is (0–255), or -1 when it cannot be written as it is. */
    int firstRawByte() {
        return raw[0] == null ? -1 : raw[0][0] & 0xff;
    }

    /**
     * The bytes (0–255) that may follow {@link #firstRawByte()} in this form: the first character's second UTF-8
     * byte, or, for a one-byte first character, a {@code \} or the next character's first byte.
     */
    int[] secondBytesAfterRaw() {
        if (raw[0] == null) {
            return new int[0];
        }
        if (raw[0].length > 1) {
            return new int[] {raw[0][1] & 0xff};
        }
        byte[] next = raw[1];
        return next == null ? new int[] {'\\'} : new int[] {'\\', next[0] & 0xff};
    }

    /** The bytes (0–255) that may follow a {@code \} that begins this form: {@code u}, the short escape's letter. */
    int[] secondBytesAfterBackslash() {
        int letter = shortEscapeOf(chars[0]);
        return letter < 0 ? new int[] {'u'} : new int[] {'u', letter};
    }

    /**
     * How many bytes from {@code data[at]} on (before {@code end}) write the value in this form: that length (at
     * least the value's number of characters), {@link #NO} when they do not, {@link #MORE} when {@code data} ends
     * before it is known (all up to {@code end} agrees, an escape perhaps cut in its middle: <code>&#92;u00</code> of
     * <code>&#92;u0026</code>).
     */
    int match(byte[] data, int at, int end) {
        int p = at;
        int j = 0;
        while (j < chars.length) {
            if (p >= end) {
                return MORE;
            }
            if (data[p] == '\\') {
                if (p + 1 >= end) {
                    return MORE;
                }
                char c = chars[j];
                byte e = data[p + 1];
                if (e == 'u') {
                    for (int k = 0; k < 4; k++) {
                        if (p + 2 + k >= end) {
                            return MORE;
                        }
                        if (hex(data[p + 2 + k]) != (c >>> (12 - 4 * k) & 0xf)) {
                            return NO;
                        }
                    }
                    p += 6;
                } else if (e == shortEscapeOf(c)) {
                    p += 2;
                } else {
                    return NO;
                }
                j++;
            } else {
                byte[] r = raw[j];
                if (r == null) {
                    return NO;
                }
                for (byte b : r) {
                    if (p >= end) {
                        return MORE;
                    }
                    if (data[p++] != b) {
                        return NO;
                    }
                }
                j += r.length == 4 ? 2 : 1; // a surrogate pair's four bytes are two characters
            }
        }
        return p - at;
    }

    /** The letter of {@code c}'s short JSON escape (<code>&#92;n</code>: {@code n}), or -1 when it has none. */
    private static int shortEscapeOf(char c) {
        return switch (c) {
            case '"' -> '"';
            case '\\' -> '\\';
            case '/' -> '/';
            case '\b' -> 'b';
            case '\f' -> 'f';
            case '\n' -> 'n';
            case '\r' -> 'r';
            case '\t' -> 't';
            default -> -1;
        };
    }

    /** The value of hex digit {@code b}, either case, or -1 (no byte but ASCII's digits and letters is one). */
    private static int hex(byte b) {
        return Character.digit((char) (b & 0xff), 16);
    }
}
