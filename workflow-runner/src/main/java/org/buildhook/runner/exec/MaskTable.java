package org.buildhook.runner.exec;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The byte strings a job's log masks ({@link LogMask}): its secret values' exact UTF-8 bytes and their
 * {@linkplain EncodedForms encoded forms}, and each value as a {@linkplain JsonStringForm JSON string} (matched by
 * walking it, not as strings: mask46), arranged for the look at each byte of the output. Read only once made.
 *
 * <p>Shared by the jobs with the same secret values, which most job starts are (the jobs of one rule): working out the
 * forms costs a job start about 10 µs of CPU for three ordinary secrets and 0.16 ms for a 3 KiB private key once the
 * JIT has compiled it (several times that in a JVM that has started few jobs), where the exact values alone cost
 * 1–4 µs, and a table kept costs a look-up (mask39; docs/BENCHMARKS.md, "Masking secrets in a job's log"). The last
 * {@value #KEPT} sets are kept: values that buildhook's rules, the jobs' requests and its environment hold anyway.
 */
final class MaskTable {

    /** How many sets of values are kept for the next job start with the same ones. */
    static final int KEPT = 32;
    /** The last sets asked for, the least recently asked first. */
    private static final Map<Set<String>, MaskTable> RECENT = new LinkedHashMap<>(KEPT * 2, 0.75f, true);

    /** The masked strings by their first byte, each group longest first; {@code null} for a byte that starts none. */
    private final byte[][][] byFirst = new byte[256][][];
    /**
     * The values as JSON strings by the first byte they can start with: the value's own first byte, or a {@code \};
     * {@code null} for a byte that starts none.
     */
    private final JsonStringForm[][] jsonByFirst = new JsonStringForm[256][];
    /** Whether a byte starts some string or JSON string form: the one look most bytes of the output get. */
    private final boolean[] starts = new boolean[256];
    /**
     * Whether two bytes, {@code first << 8 | second}, begin some masked string or JSON string form: most starts are
     * followed by another.
     */
    private final long[] pairs = new long[65536 / 64];
    /** The longest masked string's or JSON string form's length: what the log may hold back ({@link LogMask}). */
    final int longest;

    private MaskTable(List<byte[]> strings, List<JsonStringForm> json) {
        List<List<byte[]>> groups = new ArrayList<>(256);
        for (int b = 0; b < 256; b++) {
            groups.add(null);
        }
        int max = 0;
        for (byte[] s : strings) { // longest first, and so is each group
            int first = s[0] & 0xff;
            if (groups.get(first) == null) {
                groups.set(first, new ArrayList<>());
            }
            groups.get(first).add(s);
            pair(first, s[1] & 0xff);
            max = Math.max(max, s.length);
        }
        for (int b = 0; b < 256; b++) {
            if (groups.get(b) != null) {
                byFirst[b] = groups.get(b).toArray(byte[][]::new);
            }
        }
        for (JsonStringForm form : json) {
            int first = form.firstRawByte();
            if (first >= 0) {
                jsonByFirst[first] = with(jsonByFirst[first], form);
                for (int second : form.secondBytesAfterRaw()) {
                    pair(first, second);
                }
            }
            jsonByFirst['\\'] = with(jsonByFirst['\\'], form);
            for (int second : form.secondBytesAfterBackslash()) {
                pair('\\', second);
            }
            max = Math.max(max, form.longest());
        }
        for (int b = 0; b < 256; b++) {
            starts[b] = byFirst[b] != null || jsonByFirst[b] != null;
        }
        this.longest = max;
    }

    /**
     * The table for {@code values}, each at least {@value SecretNames#SHORTEST_MASKED_VALUE} characters long (one
     * made before for the same values, if it is still kept).
     */
    static MaskTable of(Set<String> values) {
        synchronized (RECENT) {
            MaskTable kept = RECENT.get(values);
            if (kept != null) {
                return kept;
            }
        }
        List<JsonStringForm> json = new ArrayList<>(values.size());
        values.forEach(v -> json.add(new JsonStringForm(v)));
        MaskTable made = new MaskTable(strings(values), json); // outside the lock: a key's forms take a while
        synchronized (RECENT) {
            RECENT.put(Set.copyOf(values), made);
            if (RECENT.size() > KEPT) {
                Iterator<Set<String>> eldest = RECENT.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
        return made;
    }

    /** Whether some string or JSON string form starts with byte {@code first} (0–255). */
    boolean starts(int first) {
        return starts[first];
    }

    /** The strings starting with byte {@code first} (0–255), longest first, or {@code null} when none does. */
    byte[][] startingWith(int first) {
        return byFirst[first];
    }

    /**
     * The values as JSON strings that may start with byte {@code first} (0–255), or {@code null} when none may
     * ({@link JsonStringForm#match} tells).
     */
    JsonStringForm[] jsonStartingWith(int first) {
        return jsonByFirst[first];
    }

    /** Whether a string or JSON string form starts with the bytes {@code first} and {@code second} (each 0–255). */
    boolean startsWith(int first, int second) {
        int pair = first << 8 | second;
        return (pairs[pair >>> 6] & 1L << pair) != 0;
    }

    private void pair(int first, int second) {
        int pair = first << 8 | second;
        pairs[pair >>> 6] |= 1L << pair;
    }

    private static JsonStringForm[] with(JsonStringForm[] forms, JsonStringForm form) {
        if (forms == null) {
            return new JsonStringForm[] {form};
        }
        JsonStringForm[] more = Arrays.copyOf(forms, forms.length + 1);
        more[forms.length] = form;
        return more;
    }

    /** The values and their encoded forms, as bytes, longest first (a secret that contains another is masked whole). */
    private static List<byte[]> strings(Set<String> values) {
        TreeSet<String> unique = new TreeSet<>();
        for (String v : values) {
            unique.add(v);
            unique.addAll(EncodedForms.of(v));
        }
        List<byte[]> out = new ArrayList<>(unique.size());
        unique.forEach(v -> out.add(v.getBytes(StandardCharsets.UTF_8)));
        out.sort(Comparator.comparingInt((byte[] b) -> b.length).reversed());
        return out;
    }
}
