package org.buildhook.runner.exec;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.buildhook.core.Utf8;

/**
 * What is checked before a job is launched, so that the usual mistakes get a precise message
 * instead of a bare {@code error=2}: the command, the environment, the working directory and the
 * executable (found on the PATH of the job's own environment when it has no slash).
 */
final class StartCheck {

    /** A job that must not be launched, with the reason for the operator. */
    static final class Refused extends Exception {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * What the launch needs, once checked.
     *
     * @param leftOut one line per variable of buildhook's own left out of the environment because
     *                Linux would refuse it (see {@link #fitsLinux}), for the attempt's log; usually empty
     */
    record Checked(Path executable, Map<String, String> environment, Path workdir, List<String> leftOut) {
    }

    private StartCheck() {
    }

    static Checked check(List<String> argv, Map<String, String> base, Map<String, String> extra,
            Path workdir) throws Refused {
        return check(argv, base, extra, workdir, ProcessEncoding.current());
    }

    /**
     * As {@link #check(List, Map, Map, Path)}, and every argument, environment variable and path
     * must reach the process as its exact UTF-8 bytes with the given encoding.
     */
    static Checked check(List<String> argv, Map<String, String> base, Map<String, String> extra,
            Path workdir, ProcessEncoding encoding) throws Refused {
        return check(argv, base, extra, workdir, encoding, ARGUMENT_SPACE);
    }

    /**
     * As {@link #check(List, Map, Map, Path, ProcessEncoding)}, with the room Linux gives a new
     * program's arguments and environment together as {@code argumentSpace} bytes (for tests; the
     * launch uses {@link #ARGUMENT_SPACE}).
     */
    static Checked check(List<String> argv, Map<String, String> base, Map<String, String> extra,
            Path workdir, ProcessEncoding encoding, long argumentSpace) throws Refused {
        if (argv.isEmpty()) {
            throw new Refused("empty command: the rule's command needs at least the program");
        }
        for (int i = 0; i < argv.size(); i++) {
            if (argv.get(i).indexOf('\0') >= 0) {
                throw new Refused("argument " + i + " contains a NUL byte, which a process argument cannot hold");
            }
        }
        Map<String, String> environment = new HashMap<>(base);
        Map<String, String> own = extra;
        for (Map.Entry<String, String> variable : extra.entrySet()) {
            String name = variable.getKey();
            if (name.isEmpty() || name.indexOf('=') >= 0 || name.indexOf('\0') >= 0
                    || variable.getValue().indexOf('\0') >= 0) {
                throw new Refused("invalid environment variable " + name.replace('\0', '?')
                        + ": names must be non-empty without '=' and values without NUL bytes");
            }
            environment.put(name, variable.getValue());
        }
        List<String> leftOut = new ArrayList<>(0);
        BasicFileAttributes folder; // one stat for both questions
        try {
            folder = Files.readAttributes(workdir, BasicFileAttributes.class);
        } catch (IOException e) {
            folder = null;
        }
        if (folder == null && !Files.exists(workdir)) {
            throw new Refused("working directory does not exist: " + workdir);
        }
        if (folder == null || !folder.isDirectory()) {
            throw new Refused("working directory is not a directory: " + workdir);
        }
        Path executable = executable(argv.get(0), environment.get("PATH"), workdir);
        fitsLinux(argv, environment, extra, executable, argumentSpace, leftOut);
        if (!leftOut.isEmpty()) {
            own = new HashMap<>(extra);
            own.keySet().retainAll(environment.keySet());
        }
        exactBytes(argv, base, own, environment, workdir, executable, encoding);
        return new Checked(executable, Map.copyOf(environment), workdir, List.copyOf(leftOut));
    }

    /** Linux's MAX_ARG_STRLEN: the most bytes of one argument, or of one {@code NAME=value}, its NUL included. */
    static final int MAX_ARG_STRLEN = 131_072;
    /** A string of at most this many chars has at most MAX_ARG_STRLEN - 1 bytes in UTF-8 (3 per char at most). */
    private static final int SURELY_FITS = (MAX_ARG_STRLEN - 1) / 3;
    /**
     * Bytes kept aside from {@link #ARGUMENT_SPACE} for what is added on the way to the program:
     * the {@code setsid} launch's own arguments, and a script's interpreter and path, which the
     * kernel adds to the arguments when it runs a {@code #!} file.
     */
    static final int SLACK = 8_192;
    /**
     * The bytes Linux gives a new program's arguments and environment together (fs/exec.c: a
     * quarter of the stack size limit, {@code ulimit -s}, at most 6 MiB and at least 128 KiB; each
     * string counts its NUL and 8 bytes for its pointer). Read once, from this process's stack
     * limit in {@code /proc/self/limits}, which the jobs inherit; 2 MiB (the limit of the usual
     * 8 MiB stack) when it cannot be read.
     */
    static final long ARGUMENT_SPACE = argumentSpace(stackLimit(Path.of("/proc/self/limits")));

    /**
     * The room for arguments and environment under a soft stack limit of {@code stackLimit} bytes
     * ({@link Long#MAX_VALUE} for unlimited), as Linux's {@code bprm_stack_limits} works it out.
     */
    static long argumentSpace(long stackLimit) {
        long stkLim = 8L << 20; // _STK_LIM
        return Math.max(Math.min(stkLim / 4 * 3, stackLimit / 4), 32L * 4096); // ARG_MAX: 32 pages
    }

    /** The soft "Max stack size" of {@code limits} (a /proc/PID/limits file) in bytes; 8 MiB when unreadable. */
    static long stackLimit(Path limits) {
        try {
            for (String line : Files.readAllLines(limits)) {
                if (line.startsWith("Max stack size")) {
                    String soft = line.substring("Max stack size".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux, or a format this does not know: the usual limit
        }
        return 8L << 20;
    }

    /** The prefix of buildhook's own variables: rules cannot use it (ActionReader), so no rule set these. */
    private static final String OWN_PREFIX = "BUILDHOOK_";

    /**
     * Makes the command fit what Linux passes to a new program, which would otherwise refuse it
     * with a bare "error=7, Argument list too long" (E2BIG): at most {@link #MAX_ARG_STRLEN} bytes
     * per argument or variable, and {@code space} bytes for all of them together. Such values come
     * from the payload (a run name of 65536 characters that take three bytes each).
     * <p>
     * An argument, or a variable the rule or the host set, that does not fit refuses the job,
     * naming it and what to do. A variable of buildhook's own ({@code BUILDHOOK_*}, except the
     * attempt's marker) that does not fit is left out instead, largest first, with a line in
     * {@code leftOut}: the rule never asked for it, the payload file has its value whole, and a
     * job that uses none of these values (an on-failure follow-up that pages someone) must not
     * fail to start because of one.
     *
     */
    private static void fitsLinux(List<String> argv, Map<String, String> environment, Map<String, String> extra,
            Path executable, long space, List<String> leftOut) throws Refused {
        String whole = " a value that long, from the build's payload, reaches a script whole only through the payload"
                + " file (BUILDHOOK_PAYLOAD) or standard input (stdin: on)";
        String what = " bytes long, more than the " + MAX_ARG_STRLEN + " bytes Linux passes in one argument or"
                + " environment variable (MAX_ARG_STRLEN);" + whole;
        // The kernel copies the program's path, then every argument (the first is that path
        // again) and every NAME=value, each with its NUL and a pointer.
        long upper = 3L * executable.toString().length() + 1 + 8L * (argv.size() + environment.size()) + SLACK;
        for (int i = 0; i < argv.size(); i++) {
            String argument = i == 0 ? executable.toString() : argv.get(i);
            long bytes = argument.length() <= SURELY_FITS ? 0 : Utf8.encodedLength(argument);
            if (bytes + 1 > MAX_ARG_STRLEN) {
                throw new Refused("argument " + i + " is " + bytes + what);
            }
            upper += 3L * argument.length() + 1;
        }
        List<String> tooLong = new ArrayList<>(0);
        for (Map.Entry<String, String> variable : environment.entrySet()) {
            String name = variable.getKey();
            String value = variable.getValue();
            upper += 3L * (name.length() + value.length()) + 2;
            if (name.length() + 1 + value.length() <= SURELY_FITS) {
                continue;
            }
            long bytes = Utf8.encodedLength(name) + 1 + Utf8.encodedLength(value);
            if (bytes + 1 > MAX_ARG_STRLEN) {
                if (!ownVariable(name, value, extra)) {
                    throw new Refused("environment variable " + name + " is " + bytes + what);
                }
                tooLong.add(name);
                leftOut.add(name + " is left out of the environment: it is " + bytes + " bytes long, more than the "
                        + MAX_ARG_STRLEN + " bytes Linux passes in one environment variable (MAX_ARG_STRLEN);"
                        + IN_THE_PAYLOAD);
            }
        }
        environment.keySet().removeAll(tooLong);
        if (upper <= space) {
            return; // the usual case: no value needs encoding to know it fits
        }
        long total = Utf8.encodedLength(executable.toString()) + 1 + SLACK;
        for (int i = 0; i < argv.size(); i++) {
            total += Utf8.encodedLength(i == 0 ? executable.toString() : argv.get(i)) + 1 + 8;
        }
        List<Map.Entry<String, Long>> own = new ArrayList<>();
        for (Map.Entry<String, String> variable : environment.entrySet()) {
            long bytes = Utf8.encodedLength(variable.getKey()) + 1 + Utf8.encodedLength(variable.getValue()) + 1 + 8;
            total += bytes;
            if (ownVariable(variable.getKey(), variable.getValue(), extra)) {
                own.add(Map.entry(variable.getKey(), bytes));
            }
        }
        own.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        long before = total;
        for (int i = 0; total > space && i < own.size(); i++) {
            String name = own.get(i).getKey();
            environment.remove(name);
            total -= own.get(i).getValue();
            leftOut.add(name + " is left out of the environment: the command's arguments and environment come to "
                    + before + " bytes with it, more than the " + space + " bytes Linux passes to a program (a"
                    + " quarter of the stack size limit, ulimit -s, at most 6 MiB);" + IN_THE_PAYLOAD);
        }
        if (total > space) {
            throw new Refused("the command's arguments and environment come to " + total + " bytes, more than the "
                    + space + " bytes Linux passes to a program (a quarter of the stack size limit, ulimit -s, at"
                    + " most 6 MiB);" + whole);
        }
    }

    /** The end of every line saying a variable was left out: where its value is whole. */
    private static final String IN_THE_PAYLOAD = " the payload file (BUILDHOOK_PAYLOAD) has the whole value";

    /**
     * Whether {@code name} is one of buildhook's own variables of this job, which may be left out: not
     * the attempt's marker, nor the payload file's path, which the notes point to for the whole value.
     */
    private static boolean ownVariable(String name, String value, Map<String, String> extra) {
        return name.startsWith(OWN_PREFIX) && !name.equals(AttemptMarker.VARIABLE)
                && !name.equals(AttemptMarker.STORE_VARIABLE) && !name.equals(AttemptMarker.SERVER_VARIABLE)
                && !name.equals(PAYLOAD)
                && value.equals(extra.get(name));
    }

    /** The variable naming the payload file (JobTask's PAYLOAD_ENV). */
    private static final String PAYLOAD = "BUILDHOOK_PAYLOAD";

    /** Refuses what this JVM would pass with '?' in place of characters: never run with other values. */
    private static void exactBytes(List<String> argv, Map<String, String> base, Map<String, String> extra,
            Map<String, String> environment, Path workdir, Path executable, ProcessEncoding encoding) throws Refused {
        String notExact = " cannot be passed exactly: it holds non-ASCII characters and this JVM encodes ";
        String noUtf8 = " cannot be passed exactly: it holds an unpaired surrogate (a lone \\uD800-\\uDFFF escape in"
                + " the JSON it came from), which has no UTF-8 encoding";
        // The same variable named first each time. The inherited variables are the same map for
        // every job: once it passes, only the job's own variables can fail, and the first of them
        // that fails (in name order) is the first of the whole environment that fails.
        Map<String, String> sorted = new java.util.TreeMap<>(basePasses(base, encoding) ? extra : environment);
        for (int i = 0; i < argv.size(); i++) {
            if (!hasUtf8(argv.get(i))) {
                throw new Refused("argument " + i + noUtf8);
            }
        }
        for (Map.Entry<String, String> variable : sorted.entrySet()) {
            if (!hasUtf8(variable.getKey()) || !hasUtf8(variable.getValue())) {
                String name = hasUtf8(variable.getKey()) ? variable.getKey() : "with such a name";
                throw new Refused("environment variable " + name + noUtf8);
            }
        }
        for (int i = 1; i < argv.size(); i++) {
            if (!encoding.passesArgument(argv.get(i))) {
                throw new Refused("argument " + i + notExact + "arguments as " + encoding.arguments().name()
                        + "; " + ProcessEncoding.FIX);
            }
        }
        for (Map.Entry<String, String> variable : sorted.entrySet()) {
            if (!encoding.passesArgument(variable.getKey()) || !encoding.passesArgument(variable.getValue())) {
                String name = encoding.passesArgument(variable.getKey()) ? variable.getKey() : "with a non-ASCII name";
                throw new Refused("environment variable " + name + notExact + "the environment as "
                        + encoding.arguments().name() + "; " + ProcessEncoding.FIX);
            }
        }
        for (Path path : List.of(workdir, executable)) {
            if (!encoding.passesPath(path.toString())) {
                throw new Refused("path " + path + notExact + "paths as " + encoding.paths().name() + "; "
                        + ProcessEncoding.FIX);
            }
        }
    }

    /**
     * Whether every variable of {@code base} would reach a process exactly under {@code encoding}:
     * worked out once per map (the launcher's inherited environment, one immutable map) and encoding.
     */
    static boolean basePasses(Map<String, String> base, ProcessEncoding encoding) {
        BaseCheck last = lastBase;
        if (last != null && last.base() == base && last.encoding().equals(encoding)) {
            return last.passes();
        }
        // Only an unmodifiable map can be known by identity (Map.copyOf returns such a map as it is).
        boolean unmodifiable = Map.copyOf(base) == base;
        boolean passes = true;
        for (Map.Entry<String, String> variable : base.entrySet()) {
            if (!hasUtf8(variable.getKey()) || !hasUtf8(variable.getValue())
                    || !encoding.passesArgument(variable.getKey()) || !encoding.passesArgument(variable.getValue())) {
                passes = false;
                break;
            }
        }
        if (unmodifiable) {
            lastBase = new BaseCheck(base, encoding, passes);
        }
        return passes;
    }

    /** The last unmodifiable inherited environment checked, by identity (an equal copy is checked again). */
    private record BaseCheck(Map<String, String> base, ProcessEncoding encoding, boolean passes) {
    }

    private static volatile BaseCheck lastBase;

    /** Whether {@code value} has a UTF-8 encoding (no unpaired surrogate, see {@link Utf8}). */
    static boolean hasUtf8(String value) {
        return Utf8.unpairedSurrogate(value) < 0;
    }

    /** Finds the program as the launch would (a slash: from the workdir; else on PATH) and checks it can run. */
    static Path executable(String program, String searchPath, Path workdir) throws Refused {
        if (program.isEmpty()) {
            throw new Refused("executable not found: the program name is empty");
        }
        if (program.indexOf('/') >= 0) {
            Path file = path(program, workdir);
            // One stat for whether it is there, its kind and its #! line's version: missing or
            // unreachable is "not found", as Files.exists said; there but no file is "not a regular file".
            Version attributes = versionOf(file);
            if (attributes == null) {
                throw new Refused("executable not found: " + file + (program.startsWith("/") ? ""
                        : " (the relative program " + program + " is taken from the job's working directory "
                                + workdir + "; give its absolute path in the rule's command, or set the rule's"
                                + " workdir)"));
            }
            return requireRunnable(file, attributes);
        }
        if (searchPath == null || searchPath.isEmpty()) {
            throw new Refused("executable not found: " + program
                    + " (the job's environment has no PATH; give an absolute path)");
        }
        Path notRunnable = null;
        Version notRunnableVersion = null;
        for (String directory : searchPath.split(":")) {
            // An empty PATH entry would mean the working directory: too surprising to honour.
            if (directory.isEmpty()) {
                continue;
            }
            Path candidate = path(directory, workdir).resolve(program);
            Version attributes = versionOf(candidate);
            if (attributes != null && attributes.regular()) {
                if (Files.isExecutable(candidate)) {
                    // Its #! line too, as for a program given with its path (one stat for both).
                    requireInterpreter(candidate, attributes);
                    return candidate;
                }
                if (notRunnable == null) {
                    notRunnable = candidate;
                    notRunnableVersion = attributes;
                }
            }
        }
        if (notRunnable != null) {
            return requireRunnable(notRunnable, notRunnableVersion);
        }
        throw new Refused("executable not found: " + program + " is on no directory of PATH=" + searchPath);
    }

    /** One {@code stat} of {@code file}; null when it cannot be read (missing, or no permission). */
    private static Version versionOf(Path file) {
        try {
            return Version.of(file);
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code file}, whose one {@code stat} is {@code attributes}, if it is a file this user may run. */
    private static Path requireRunnable(Path file, Version attributes) throws Refused {
        if (!attributes.regular()) {
            throw new Refused("executable is not a regular file: " + file);
        }
        if (!Files.isExecutable(file)) {
            throw new Refused("permission denied: " + file + " is not executable (chmod +x it, or run it"
                    + " through its interpreter, e.g. [/bin/sh, " + file + "])");
        }
        requireInterpreter(file, attributes);
        return file;
    }

    /**
     * A script's {@code #!} line names its interpreter. Saved with Windows line ends it names
     * {@code "/bin/sh\r"}, which the kernel reports as "No such file or directory" about the script
     * itself: the most confusing start failure there is, so it is named before the launch.
     */
    private static void requireInterpreter(Path file, Version attributes) throws Refused {
        Shebang shebang = shebang(file, attributes);
        if (shebang == null) {
            return; // unreadable but executable: the launch says what is wrong
        }
        if (shebang.carriageReturn() != null) {
            throw new Refused("the #! line of " + file + " ends with a carriage return (the file has Windows CRLF"
                    + " line ends), so the system looks for an interpreter named '" + shebang.carriageReturn()
                    + "\\r' and reports \"No such file or directory\"; convert the file to LF line ends (dos2unix "
                    + file + ")");
        }
        String interpreter = shebang.interpreter();
        if (!interpreter.isEmpty() && interpreter.startsWith("/") && !Files.isExecutable(Path.of(interpreter))) {
            throw new Refused("the interpreter " + interpreter + " named on the #! line of " + file
                    + " does not exist or is not executable on this machine");
        }
    }

    /**
     * What a file's {@code #!} line says: the interpreter named, or (non-null) the line without its
     * carriage return when it ends with one.
     */
    record Shebang(String interpreter, String carriageReturn) {
    }

    /** The {@code #!} line of {@code file}; null without one, or when the file cannot be read. */
    static Shebang readShebang(Path file) {
        byte[] head = new byte[256];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            return null; // unreadable but executable: the launch says what is wrong
        }
        if (n < 2 || head[0] != '#' || head[1] != '!') {
            return NO_SHEBANG;
        }
        int end = 2;
        while (end < n && head[end] != '\n') {
            end++;
        }
        String line = new String(head, 2, end - 2, StandardCharsets.UTF_8);
        if (line.endsWith("\r")) {
            return new Shebang("", line.strip());
        }
        return new Shebang(BLANKS.split(line.strip(), 2)[0], null);
    }

    private static final java.util.regex.Pattern BLANKS = java.util.regex.Pattern.compile("[ \t]+");
    /** A file without a {@code #!} line: nothing to check. */
    private static final Shebang NO_SHEBANG = new Shebang("", null);

    /**
     * The {@code #!} line of {@code file}, read again only when the file may have changed since
     * the last read (docs/BENCHMARKS.md, "Fifth pass: CPU per delivery"): kept by the file's
     * {@link BasicFileAttributes#fileKey() key} (device and inode), size and status change time
     * ({@code ctime}), which the system sets at every write, rename or change of times and which no
     * program can set back, unlike the modification time ({@code cp -p}, {@code touch -r},
     * {@code rsync -t} and archives with fixed times set that back, and a script rewritten so keeps
     * its size and its time). Kept only once that time is at least {@link #SETTLED} older than the
     * read, since file systems keep times at a clock tick's granularity (a file written twice
     * within one tick keeps its time, so a time that recent says nothing). Without a status change
     * time (not a Unix file system) it is read every time. Null when there is nothing to check.
     */
    private static Shebang shebang(Path file, Version attributes) {
        Object key = attributes.key();
        FileTime changed = attributes.changed();
        if (key == null || changed == null) {
            return readShebang(file);
        }
        Read known = SHEBANGS.get(file);
        if (known != null && known.key().equals(key) && known.changed().equals(changed)
                && known.size() == attributes.size()) {
            return known.shebang();
        }
        Shebang read = readShebang(file);
        long age = System.currentTimeMillis() - changed.toMillis();
        if (read != null && age >= SETTLED.toMillis()) {
            if (SHEBANGS.size() >= SHEBANGS_KEPT) {
                SHEBANGS.clear();
            }
            SHEBANGS.put(file, new Read(key, changed, attributes.size(), read));
        }
        return read;
    }

    /** How old a file's status change time must be for its {@code #!} line to be kept. */
    static final java.time.Duration SETTLED = java.time.Duration.ofSeconds(2);
    /** The most files whose {@code #!} line is kept; past it the lot is forgotten (programs are few). */
    private static final int SHEBANGS_KEPT = 256;
    private static final Map<Path, Read> SHEBANGS = new java.util.concurrent.ConcurrentHashMap<>();
    /** Whether files have a status change time to ask for (the "unix" attribute view). */
    private static final boolean UNIX = FileSystems.getDefault().supportedFileAttributeViews().contains("unix");

    /** A {@code #!} line as read from one version of a file. */
    private record Read(Object key, FileTime changed, long size, Shebang shebang) {
    }

    /**
     * What one {@code stat} of a program says: whether it is a regular file, and what tells one
     * version of it from another ({@code changed} is null without a status change time).
     */
    record Version(boolean regular, long size, Object key, FileTime changed) {

        static Version of(Path file) throws IOException {
            if (UNIX) {
                Map<String, Object> read = Files.readAttributes(file, "unix:isRegularFile,size,fileKey,ctime");
                return new Version((Boolean) read.get("isRegularFile"), (Long) read.get("size"), read.get("fileKey"),
                        (FileTime) read.get("ctime"));
            }
            BasicFileAttributes read = Files.readAttributes(file, BasicFileAttributes.class);
            return new Version(read.isRegularFile(), read.size(), read.fileKey(), null);
        }
    }

    private static Path path(String text, Path workdir) throws Refused {
        try {
            return workdir.resolve(text).normalize();
        } catch (InvalidPathException e) {
            throw new Refused("invalid path " + text + ": " + e.getReason());
        }
    }
}
