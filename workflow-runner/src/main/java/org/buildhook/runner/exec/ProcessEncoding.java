package org.buildhook.runner.exec;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The charsets this JVM turns strings into bytes with when it starts a process: one for the
 * arguments and environment, one for paths. A job's values arrive as their exact UTF-8 bytes only
 * when these are UTF-8, or when the value is plain ASCII (the same bytes in every charset a JVM
 * runs with on Linux).
 *
 * <p>Both follow the locale the JVM was started under ({@code LC_ALL}, {@code LC_CTYPE},
 * {@code LANG}), not a flag: paths use {@code sun.jnu.encoding}, which a {@code -D} option cannot
 * change; arguments and environment use the default charset ({@code file.encoding}) up to Java 17
 * and {@code sun.jnu.encoding} from Java 18 (JEP 400). Without a UTF-8 locale (no {@code LANG},
 * {@code LANG=C}, as systemd and minimal containers start services) both are US-ASCII, and the JVM
 * would replace every other character with {@code ?}. {@code bin/buildhook} starts the JVM under
 * {@code C.UTF-8} for that reason.
 *
 * @param arguments what process arguments and environment values are encoded with
 * @param paths     what file paths (the working directory, the program) are encoded with
 */
public record ProcessEncoding(Charset arguments, Charset paths) {

    /** What the fix is, for messages: the variable to set before the JVM starts. */
    public static final String FIX = "start the JVM with a UTF-8 locale in its environment, e.g. LC_ALL=C.UTF-8"
            + " (bin/buildhook does this itself; for Tomcat or Jetty: export LC_ALL=C.UTF-8 in bin/setenv.sh or"
            + " Environment=LC_ALL=C.UTF-8 in its systemd unit)";

    /** This JVM's. */
    public static ProcessEncoding current() {
        Charset jnu = charset(System.getProperty("sun.jnu.encoding"));
        Charset arguments = Runtime.version().feature() >= 18 ? jnu : Charset.defaultCharset();
        return new ProcessEncoding(arguments, jnu);
    }

    private static Charset charset(String name) {
        try {
            return name == null ? Charset.defaultCharset() : Charset.forName(name);
        } catch (IllegalArgumentException e) {
            return StandardCharsets.US_ASCII; // an unknown name: assume the least
        }
    }

    /** Whether every value reaches a process exactly. */
    public boolean exact() {
        return isUtf8(arguments) && isUtf8(paths);
    }

    /**
     * The once-at-start warning when not every value would reach a job exactly; empty when they do.
     */
    public Optional<String> warning() {
        if (exact()) {
            return Optional.empty();
        }
        return Optional.of("this JVM passes job arguments and environment values as " + arguments.name()
                + " and paths as " + paths.name() + ", not UTF-8 (its locale is not UTF-8: LANG/LC_ALL/LC_CTYPE"
                + " unset or C): a job whose command, environment or working directory holds anything but"
                + " ASCII fails to start instead of receiving '?'. Fix: " + FIX);
    }

    /** Whether an argument or environment value reaches the process as its exact UTF-8 bytes. */
    boolean passesArgument(String value) {
        return isUtf8(arguments) || isAscii(value);
    }

    /** Whether a path reaches the system as its exact UTF-8 bytes. */
    boolean passesPath(String path) {
        return isUtf8(paths) || isAscii(path);
    }

    private static boolean isUtf8(Charset charset) {
        return charset.equals(StandardCharsets.UTF_8);
    }

    private static boolean isAscii(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) > 0x7f) {
                return false;
            }
        }
        return true;
    }
}
