package org.buildhook.core;

/** What a Java string needs to have UTF-8 bytes, for values that end up as a command's arguments. */
public final class Utf8 {

    private Utf8() {
    }

    /**
     * Where {@code value} holds a surrogate without its pair (JSON can carry one as a lone
     * {@code \ud800} escape), which has no UTF-8 encoding: Java's encoders would write {@code ?}
     * in its place.
     *
     * @return the index of the first unpaired surrogate, or -1 when the value encodes as UTF-8
     */
    public static int unpairedSurrogate(String value) {
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            }
        }
        return -1;
    }

    /**
     * How many bytes {@code value} takes in UTF-8, without encoding it: 1 to 3 per character, 4 per
     * surrogate pair. A surrogate without its pair ({@link #unpairedSurrogate}) has no encoding and is
     * counted as 2 bytes; callers refuse such a value on its own.
     *
     * @return the length in bytes, 0 or more
     */
    public static long encodedLength(String value) {
        long bytes = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        return bytes;
    }
}
