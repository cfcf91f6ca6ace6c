package org.buildhook.runner.exec;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The forms in which a job commonly prints a secret value encoded, each of which {@link LogMask} masks as it masks the
 * value (mask39): anyone can decode them. As GitHub's actions/runner does ({@code ValueEncoders}: base64 at the three
 * alignments, JSON string escape, URI data escape, the command-line escape), and with the JDK's encoders, not our
 * own:
 * <ul>
 * <li>base64, standard and URL-safe: the whole value with its padding ({@code printf %s "$TOKEN" | base64}), and, for
 * each of the three places the value can start at in a 3-byte group of a longer text ({@code base64 <<< "user:$PW"},
 * {@code echo "$TOKEN" | base64}, whose newline follows it), the characters that only the value's bits decide: the
 * first one or two, and the last one or two, also hold bits of what is around it, and are left out;</li>
 * <li>hex, lower and upper case ({@code xxd -p}, {@code od}-like dumps without blanks);</li>
 * <li>percent-encoding, upper and lower case hex digits, as a URI component (RFC 3986's unreserved characters as
 * they are: {@code curl --data-urlencode}, Python's {@code quote(s, safe='')}, jq 1.7's {@code @uri}; also
 * {@code !*'()} as they are: JavaScript's {@code encodeURIComponent}, jq 1.6's {@code @uri}) and as a form value
 * ({@code +} for a blank: Java's {@code URLEncoder}, HTML forms);</li>
 * <li>the value inside double quotes with {@code "} escaped ({@code \"}), and inside single quotes as a shell prints
 * it ({@code set -x}, {@code ${S@Q}}: {@code 'it'\''s'});</li>
 * <li>the forms bash itself writes, as its source has them ({@code lib/sh/shquote.c}, {@code lib/sh/strtrans.c}):
 * for a value without a control character, inside double quotes with {@code \} before each of {@code $ ` " \}
 * ({@code declare -p}, {@code export -p}), and with {@code \} before each character special to the shell
 * ({@code printf %q}); for one with a control character (the line ends of a key), inside {@code $'…'}
 * ({@code declare -p}, {@code export -p}, {@code printf %q}, {@code ${S@Q}}); and for one with a character outside
 * ASCII, inside {@code $'…'} with each of its UTF-8 bytes as {@code \ooo}, as all four write it in the C locale (a
 * job's {@code export LC_ALL=C}, a host without a UTF-8 locale).</li>
 * </ul>
 A secret written as a JSON string is not among them: each of its characters may be escaped or not, too many ways to
 * list as strings (Jackson's four writers were listed until mask46, and missed Go's and Gson's), so
 * {@link JsonStringForm} matches them all. A value with a {@code "} is also listed with it escaped as {@code \"}
 * alone, as double quotes in other languages hold it.
 * Each form keeps the floor of {@value SecretNames#SHORTEST_MASKED_VALUE} characters; a base64 fragment needs
 * {@value #SHORTEST_BASE64_FRAGMENT}: four characters of base64 turn up by chance once in 16.7 million positions of a
 * log that prints checksums or keys, six once in 69 billion (actions/runner's trimming proposal, #329, kept a trimmed
 * form only when more than three characters remained). Not covered: compression, encryption, a value split over
 * lines other than from the value's first character (a value after others in what {@code base64} encodes, whose lines
 * it wraps at 76 characters), any other transformation.
 */
final class EncodedForms {

    /** The fewest characters a base64 fragment of a value (not its whole encoding) must have to be masked. */
    static final int SHORTEST_BASE64_FRAGMENT = 6;

    private static final List<Base64.Encoder> BASE64 = List.of(Base64.getEncoder(), Base64.getUrlEncoder());

    private EncodedForms() {
    }

    /**
     * The encoded forms of {@code value} other than the value itself, each at least as long as the floors, in no
     * particular order; empty for a value shorter than {@value SecretNames#SHORTEST_MASKED_VALUE} characters.
     */
    static Set<String> of(String value) {
        Set<String> forms = new LinkedHashSet<>();
        if (value.length() < SecretNames.SHORTEST_MASKED_VALUE) {
            return forms;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        for (Base64.Encoder encoder : BASE64) {
            base64(bytes, encoder, forms);
        }
        String hex = HexFormat.of().formatHex(bytes);
        forms.add(hex);
        forms.add(hex.toUpperCase(Locale.ROOT)); // not formatHex again: it costs a 3 KiB key 30 µs
        String component = URLEncoder.encode(value, StandardCharsets.UTF_8);
        String uri = component.replace("+", "%20").replace("*", "%2A").replace("%7E", "~");
        String script = uri.replace("%21", "!").replace("%2A", "*").replace("%27", "'").replace("%28", "(")
                .replace("%29", ")");
        for (String percent : List.of(uri, script, component)) {
            forms.add(percent);
            forms.add(lowerHexAfter(percent, "%", 2));
        }
        forms.add(value.replace("\"", "\\\""));
        forms.add(value.replace("'", "'\\''"));
        bash(value, forms);
        forms.remove(value);
        forms.removeIf(f -> f.length() < SecretNames.SHORTEST_MASKED_VALUE);
        return forms;
    }

    /**
     * The forms bash writes {@code value} in besides single quotes (review55b F2): at most three, none when bash writes
     * the value as it is. {@code declare -p}, {@code export -p} and {@code printf %q} write a value with a character
     * the locale does not print as ANSI-C quoting, {@code $'…'} (also {@code ${S@Q}}, which otherwise uses single
     * quotes); otherwise {@code declare -p} and {@code export -p} write it inside double quotes, {@code printf %q}
     * with backslashes. In a UTF-8 locale those characters are the control characters (and DEL); in the C locale
     * every byte from 0x80 on as well, each written {@code \ooo} (bash's {@code ansic_shouldquote}: {@code isprint} per
     * byte), so a value with a character outside ASCII has that form too (review56 F1).
     */
    private static void bash(String value, Set<String> forms) {
        if (value.chars().anyMatch(c -> c >= 0x80)) {
            forms.add(ansiC(value, true));
        }
        if (value.chars().anyMatch(Character::isISOControl)) {
            forms.add(ansiC(value, false));
            return;
        }
        StringBuilder doubleQuoted = new StringBuilder(value.length() + 8);
        StringBuilder backslashed = new StringBuilder(value.length() + 8);
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c == '$' || c == '`' || c == '"' || c == '\\') {
                doubleQuoted.append('\\'); // sh_double_quote: the characters a backslash escapes inside "…"
            }
            doubleQuoted.append(c);
            if (SHELL_SPECIAL.indexOf(c) >= 0 || c == '~' && (i == 0 || value.charAt(i - 1) == '='
                    || value.charAt(i - 1) == ':') || c == '#' && i == 0) {
                backslashed.append('\\'); // sh_backslash_quote, as printf %q calls it
            }
            backslashed.append(c);
        }
        forms.add(doubleQuoted.toString());
        forms.add(backslashed.toString());
    }

    /** What {@code printf %q} writes with a backslash before it anywhere (bash's {@code sh_backslash_quote}). */
    private static final String SHELL_SPECIAL = " '\"\\|&;()<>!{}*[?]^$`,";

    /**
     * The inside of bash's {@code $'…'} for {@code value} ({@code ansic_quote}): {@code \\} and {@code \'}, the C
     * escapes of the control characters that have one ({@code \n \t \r \a \b \f \v}, {@code \E} for ESC), every
     * other control character as three octal digits per UTF-8 byte; the rest as it is (a UTF-8 locale's printable
     * characters), or, with {@code cLocale}, every character outside ASCII as three octal digits per UTF-8 byte too.
     */
    private static String ansiC(String value, boolean cLocale) {
        StringBuilder b = new StringBuilder(value.length() + 16);
        for (int i = 0; i < value.length(); i += Character.charCount(value.codePointAt(i))) {
            int c = value.codePointAt(i);
            switch (c) {
                case '\\', '\'' -> b.append('\\').append((char) c);
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                case '\r' -> b.append("\\r");
                case '\007' -> b.append("\\a");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\013' -> b.append("\\v");
                case '\033' -> b.append("\\E");
                default -> {
                    if (Character.isISOControl(c) || cLocale && c >= 0x80) {
                        for (byte octet : Character.toString(c).getBytes(StandardCharsets.UTF_8)) {
                            int u = octet & 0xff;
                            b.append('\\').append(u >> 6).append((u >> 3) & 7).append(u & 7);
                        }
                    } else {
                        b.appendCodePoint(c);
                    }
                }
            }
        }
        return b.toString();
    }

    /**
     * The whole encoding, and the part that only the value decides at each of the three alignments: with {@code a}
     * bytes before it in its group, character {@code k} of the encoding of {@code a} zero bytes and the value holds
     * bits {@code [6k, 6k + 6)}, of which the value's are {@code [8a, 8a + 8n)}.
     */
    private static void base64(byte[] value, Base64.Encoder encoder, Set<String> forms) {
        forms.add(encoder.encodeToString(value));
        Base64.Encoder unpadded = encoder.withoutPadding();
        for (int a = 0; a < 3; a++) {
            byte[] aligned = new byte[a + value.length];
            System.arraycopy(value, 0, aligned, a, value.length);
            String encoded = unpadded.encodeToString(aligned);
            int from = (8 * a + 5) / 6;
            int to = 8 * (a + value.length) / 6;
            if (to - from >= SHORTEST_BASE64_FRAGMENT) {
                forms.add(encoded.substring(from, to));
            }
            if (a == 0 && encoder != Base64.getUrlEncoder() && to > WRAP) {
                // coreutils' base64 (and openssl base64 at 64) wraps its lines: a value at the start of what it
                // encodes (printf %s "$TOKEN" | base64, echo "$TOKEN" | base64) is written in lines from its first
                // character; without this a value over 57 bytes (a JWT, a key) was never masked (tryout39 F1)
                forms.add(wrapped(encoded.substring(0, to), WRAP));
                forms.add(wrapped(encoded.substring(0, to), OPENSSL_WRAP));
            }
        }
    }

    /** Columns of {@code base64}'s lines (GNU coreutils' default, {@code -w 76}). */
    private static final int WRAP = 76;
    /** Columns of {@code openssl base64}'s lines. */
    private static final int OPENSSL_WRAP = 64;

    /** {@code encoded} in lines of {@code columns} characters, each but the last ended by a line feed. */
    private static String wrapped(String encoded, int columns) {
        StringBuilder b = new StringBuilder(encoded.length() + encoded.length() / columns);
        for (int at = 0; at < encoded.length(); at += columns) {
            if (at > 0) {
                b.append('\n');
            }
            b.append(encoded, at, Math.min(encoded.length(), at + columns));
        }
        return b.toString();
    }

    /** {@code text} with the {@code digits} hex digits after each {@code marker} in lower case ({@code %2F} → {@code %2f}). */
    private static String lowerHexAfter(String text, String marker, int digits) {
        StringBuilder out = new StringBuilder(text);
        for (int at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
            for (int i = at + marker.length(); i < Math.min(at + marker.length() + digits, out.length()); i++) {
                out.setCharAt(i, Character.toLowerCase(out.charAt(i)));
            }
        }
        return out.toString();
    }
}
