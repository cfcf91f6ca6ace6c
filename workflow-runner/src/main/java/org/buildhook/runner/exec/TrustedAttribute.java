package org.buildhook.runner.exec;

import com.sun.jna.LastErrorException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * An extended attribute {@code trusted.<name>} (readable by root only), which Java cannot read (its
 * {@code UserDefinedFileAttributeView} reads {@code user.} ones only): {@code getxattr(2)} through JNA. A class of its
 * own so that {@link AttemptCgroups} names no JNA type: the watchdog's JVM ({@link NodeWatchdog}) has no JNA, and a
 * JNA exception caught in a method of that class failed its verification there ({@code NoClassDefFoundError}).
 */
final class TrustedAttribute {

    private TrustedAttribute() {
    }

    /** The value of {@code trusted.<name>} of {@code path}; null when it has none or it cannot be read (no JNA). */
    static String of(Path path, String name) {
        try {
            return NativeSpawn.bound(() -> {
                byte[] value = new byte[64];
                try {
                    long size = LibC.getxattr(cString(path.toString()), cString("trusted." + name), value,
                            value.length);
                    return new String(value, 0, (int) Math.max(0, Math.min(size, value.length)),
                            StandardCharsets.UTF_8);
                } catch (LastErrorException e) {
                    return null; // none (ENODATA), or not allowed
                }
            });
        } catch (LinkageError | RuntimeException e) {
            return null;
        }
    }

    private static byte[] cString(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return java.util.Arrays.copyOf(bytes, bytes.length + 1);
    }
}
