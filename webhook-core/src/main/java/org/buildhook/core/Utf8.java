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
}
