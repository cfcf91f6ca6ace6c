package org.buildhook.core;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Locale;
import javax.crypto.Mac;

/**
 * SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104) of whole byte arrays, the two hashes of every
 * delivery: its signature and the key duplicates are found by.
 *
 * <p>Computed by the system's OpenSSL {@code libcrypto} (3.x or 1.1, through JNA) where it loads,
 * else by the JDK. buildhook's JVM runs C1 only (docs/deploying.md, "JVM options"), which compiles
 * the JDK's SHA-256 as plain code: about 22 µs for a 2.4 KB body, against 3–4 µs in {@code libcrypto}
 * with the CPU's SHA instructions, call included; the two hashes were 6.5 % of the request threads'
 * CPU while jobs ran (docs/BENCHMARKS.md, "Sixth pass: the accept path"). The results are the same
 * bytes: {@code libcrypto} is used only on 64-bit Linux, and only after it gave the JDK's answers for
 * known inputs (FIPS 180-4's "abc", RFC 4231's test cases 1, 2 and 6, a key longer than the block,
 * an empty body). Decided once per class loader; {@code -Dbuildhook.crypto=jdk} keeps the JDK's.
 *
 * <p>Only the hashing moves: signatures are still compared by {@link SignatureVerifier} in constant
 * time, in Java.
 */
public final class Sha256 {

    /** The system property that chooses: {@code native} (the default: {@code libcrypto} where it can) or {@code jdk}. */
    public static final String PROPERTY = "buildhook.crypto";

    private static final String ALGORITHM = "SHA-256";
    /** Never used itself, only cloned: a fresh digest costs no provider look-up. */
    private static final MessageDigest PROTOTYPE = prototype();

    private Sha256() {
    }

    /** The SHA-256 of {@code data}, 32 bytes. */
    public static byte[] digest(byte[] data) {
        if (Choice.NATIVE) {
            byte[] md = new byte[Hmac.LENGTH];
            if (LibCrypto.SHA256(data, data.length, md) != 0) {
                return md;
            }
        }
        return jdkDigest().digest(data);
    }

    /** How the hashes are computed in this process, for the start-up log: a library and its version, or why the JDK. */
    public static String implementation() {
        return Choice.DESCRIPTION;
    }

    /**
     * The HMAC-SHA256 of {@code data} keyed with {@code secret}; {@code prototype} is the JDK's
     * {@link Mac} keyed with it, used (copied) when {@code libcrypto} is not.
     */
    static byte[] hmac(Secret secret, Mac prototype, byte[] data) {
        if (Choice.NATIVE) {
            byte[] md = new byte[Hmac.LENGTH];
            try (NativeKey key = NativeKey.of(secret.key())) {
                if (key != null && LibCrypto.HMAC(Choice.EVP_SHA256, key.peer, key.length, data, data.length, md, 0)
                        != 0) {
                    return md;
                }
            }
        }
        return Hmac.copyOf(prototype, secret).doFinal(data);
    }

    /**
     * The key's copy in native memory for one HMAC, zeroed before it is freed. Passed as a Java array,
     * JNA would copy the key into a native buffer of its own and free it as it was, the secret's bytes
     * left in the process's free memory (a core dump, a later allocation). Not JNA's {@code Memory},
     * which would hand each copy to JNA's cleaner thread.
     */
    static final class NativeKey implements AutoCloseable {
        final Pointer pointer;
        final int length;
        /** The copy's address, what libcrypto is given. */
        final long peer;

        private NativeKey(long peer, byte[] key) {
            this.peer = peer;
            this.pointer = new Pointer(peer);
            this.length = key.length;
            pointer.write(0, key, 0, key.length);
        }

        /** The key copied into new native memory; null when there is none (the JDK computes then). */
        static NativeKey of(byte[] key) {
            long peer = Native.malloc(key.length);
            return peer == 0 ? null : new NativeKey(peer, key);
        }

        /** Overwrites the copy with zeros (OpenSSL's HMAC cleanses its own copies as it ends). */
        void wipe() {
            pointer.setMemory(0, length, (byte) 0);
        }

        @Override
        public void close() {
            wipe();
            Native.free(peer);
        }
    }

    private static MessageDigest jdkDigest() {
        if (PROTOTYPE != null) {
            try {
                return (MessageDigest) PROTOTYPE.clone();
            } catch (CloneNotSupportedException e) {
                // A provider whose digest does not clone (some FIPS ones): look it up every time.
            }
        }
        try {
            return MessageDigest.getInstance(ALGORITHM);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this Java runtime cannot compute " + ALGORITHM, e);
        }
    }

    private static MessageDigest prototype() {
        try {
            return MessageDigest.getInstance(ALGORITHM);
        } catch (NoSuchAlgorithmException e) {
            return null; // every Java SE runtime has SHA-256; jdkDigest says so if this one does not
        }
    }

    /**
     * OpenSSL's one-shot functions, bound directly (JNA direct mapping: no reflection per call). Their
     * pointers (arguments and results) are plain addresses, {@code long}, 0 for {@code NULL}: a
     * {@link Pointer} result is a Java object the JVM makes through JNI at every call, and a
     * {@link Pointer} argument a field JNI reads: 0.20–0.22 µs of each signature check and 0.06–0.22 µs of
     * each digest of a 2.4 KB body, in three pairs (docs/BENCHMARKS.md, "Twentieth pass"). The same register holds either on the 64-bit
     * platforms libcrypto is used on.
     */
    private static final class LibCrypto {
        static native long SHA256(byte[] data, long length, byte[] md);

        static native long EVP_sha256();

        static native long HMAC(long md, long key, int keyLength, byte[] data, long length, byte[] out,
                long outLength);

        static void bind(NativeLibrary library) {
            Native.register(LibCrypto.class, library);
        }
    }

    /** Decided on first use, once per class loader (a WAR decides for itself). */
    private static final class Choice {
        static final boolean NATIVE;
        /** libcrypto's SHA-256 method ({@code EVP_MD *}), 0 when the JDK computes. */
        static final long EVP_SHA256;
        static final String DESCRIPTION;

        static {
            // Not a lambda here: its code would belong to this class, which the check's thread would
            // then wait for while this initialiser waits for that thread.
            Decision decision = decide(new Check());
            NATIVE = decision.nativeOn();
            EVP_SHA256 = decision.md();
            DESCRIPTION = decision.description();
        }
    }

    /**
     * What {@link Choice} decides: libcrypto (with its SHA-256 method) only when the check finished and
     * verified it, else the JDK and why.
     */
    record Decision(boolean nativeOn, long md, String description) {
    }

    /** Runs {@code check} and decides from what it verified; tests give it a check that fails on purpose. */
    static Decision decide(Check check) {
        // Decided on a thread of its own that ends here: binding the library leaves a JNA
        // ThreadLocal on the thread that does it, and the first use may be on a container's
        // thread, which outlives the web application (Tomcat reports it as a leak on undeploy;
        // TomcatRedeployIT). The calls themselves leave none. The check is another class: a
        // thread calling into this one would wait for this initialiser, which waits for it.
        Thread decide = new Thread(check, "buildhook-crypto-check");
        decide.setDaemon(true);
        decide.start();
        boolean interrupted = false;
        while (decide.isAlive()) {
            try {
                decide.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        // Only a check that ran to its end says yes: one that stopped half-way (an Error the thread
        // died of) is a no, whatever it had found before.
        if (check.verified) {
            return new Decision(true, check.md, check.described);
        }
        return new Decision(false, 0, "the JDK (" + (check.why == null ? "checking libcrypto did not finish"
                : check.why) + ")");
    }

    /**
     * Loads, binds and checks libcrypto; {@link #verified} is set last, only when every known answer
     * was right, and {@link #why} says why not when it cannot be used.
     */
    static final class Check implements Runnable {
        private final Runnable beforeKnownAnswers;
        String why;
        String described;
        long md;
        boolean verified;

        Check() {
            this(null);
        }

        /** @param beforeKnownAnswers run once libcrypto is bound, before its answers are checked (tests fail there) */
        Check(Runnable beforeKnownAnswers) {
            this.beforeKnownAnswers = beforeKnownAnswers;
        }

        @Override
        public void run() {
            try {
                String[] name = new String[1];
                why = whyNot(name);
                described = name[0];
                if (why == null) {
                    md = LibCrypto.EVP_sha256();
                    if (beforeKnownAnswers != null) {
                        beforeKnownAnswers.run();
                    }
                    why = md == 0 ? "libcrypto has no SHA-256 (EVP_sha256 gave nothing)" : knownAnswers(md);
                }
                verified = why == null;
            } catch (RuntimeException | Error e) {
                // Any Error too, not only a LinkageError: JNA reports a crash inside the library as
                // java.lang.Error ("Invalid memory access"), and the JDK is right everywhere.
                why = "checking libcrypto failed: " + e;
            }
        }

        private static String whyNot(String[] described) {
            String chosen = System.getProperty(PROPERTY, "native").trim().toLowerCase(Locale.ROOT);
            if (chosen.equals("jdk")) {
                return "-D" + PROPERTY + "=jdk asks for it";
            }
            try {
                if (!Platform.isLinux() || Native.SIZE_T_SIZE != 8) {
                    // Elsewhere the library's name and ABI vary (macOS aborts a process that loads its
                    // unversioned libcrypto); the JDK is right everywhere.
                    return "libcrypto is used on 64-bit Linux only";
                }
                NativeLibrary library = null;
                for (String name : new String[] {"libcrypto.so.3", "libcrypto.so.1.1"}) {
                    try {
                        library = NativeLibrary.getInstance(name);
                        break;
                    } catch (UnsatisfiedLinkError e) {
                        // try the next version
                    }
                }
                if (library == null) {
                    return "no libcrypto.so.3 or libcrypto.so.1.1 found (OpenSSL's libssl3 or libssl1.1 package)";
                }
                for (String function : new String[] {"SHA256", "EVP_sha256", "HMAC"}) {
                    library.getFunction(function);
                }
                LibCrypto.bind(library);
                described[0] = library.getFile() == null ? library.getName() : library.getFile().getName();
                return null;
            } catch (LinkageError e) {
                // Typically JNA could not unpack or load its own native library, or a function is missing.
                return "libcrypto or JNA cannot be loaded: " + e.getMessage();
            } catch (RuntimeException e) {
                return "JNA failed: " + e;
            }
        }

        /** {@code null} when libcrypto gives the JDK's answers, else what differed. */
        private static String knownAnswers(long md) {
            byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
            byte[] jefe = "Jefe".getBytes(StandardCharsets.US_ASCII);
            byte[] block = new byte[131];
            Arrays.fill(block, (byte) 0xaa);
            byte[] body = new byte[2_500];
            for (int i = 0; i < body.length; i++) {
                body[i] = (byte) (i * 31 + 7);
            }
            byte[][][] cases = {
                {new byte[20], "Hi There".getBytes(StandardCharsets.US_ASCII)},
                {jefe, "what do ya want for nothing?".getBytes(StandardCharsets.US_ASCII)},
                {block, "Test Using Larger Than Block-Size Key - Hash Key First".getBytes(StandardCharsets.US_ASCII)},
                {abc, new byte[0]},
                {block, body},
            };
            Arrays.fill(cases[0][0], (byte) 0x0b);
            for (byte[] data : new byte[][] {abc, new byte[0], body}) {
                byte[] ours = new byte[Hmac.LENGTH];
                if (LibCrypto.SHA256(data, data.length, ours) == 0
                        || !Arrays.equals(ours, jdkDigest().digest(data))) {
                    return "libcrypto's SHA-256 differs from the JDK's for a known input";
                }
            }
            for (byte[][] c : cases) {
                byte[] ours = new byte[Hmac.LENGTH];
                Secret secret = Secret.of(c[0]);
                try (NativeKey key = NativeKey.of(c[0])) {
                    if (key == null || LibCrypto.HMAC(md, key.peer, key.length, c[1], c[1].length, ours, 0) == 0
                            || !Arrays.equals(ours, Hmac.keyedWith(secret).doFinal(c[1]))) {
                        return "libcrypto's HMAC-SHA256 differs from the JDK's for a known input";
                    }
                }
            }
            return null;
        }
    }
}
