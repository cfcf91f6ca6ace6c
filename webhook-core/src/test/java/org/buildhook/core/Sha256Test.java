package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Native;
import com.sun.jna.Platform;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Random;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** libcrypto's hashes are the JDK's, byte for byte; where it is not used, the JDK's are. */
class Sha256Test {

    private static byte[] jdkHmac(byte[] key, byte[] data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    @Test
    void onSixtyFourBitLinuxWithOpenSslInstalledTheHashesAreLibcryptos() {
        // CI installs libssl3 (.ci/run); a machine without it would silently keep the slower JDK hashes.
        if (libcryptoExpected()) {
            assertThat(Sha256.implementation()).startsWith("libcrypto.so.");
        } else {
            assertThat(Sha256.implementation()).startsWith("the JDK (");
        }
    }

    @Test
    void digestsAndHmacsAreTheJdksForEveryLengthAroundTheBlocksAndRandomKeys() throws Exception {
        Random random = new Random(256);
        for (int length = 0; length < 300; length++) {
            byte[] data = new byte[length];
            random.nextBytes(data);
            assertThat(Sha256.digest(data)).as("length %d", length)
                    .isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
        }
        for (int i = 0; i < 500; i++) {
            byte[] key = new byte[1 + random.nextInt(i % 10 == 0 ? 300 : 80)];
            random.nextBytes(key);
            byte[] data = new byte[random.nextInt(i % 50 == 0 ? 200_000 : 5_000)];
            random.nextBytes(data);
            Secret secret = Secret.of(key);
            assertThat(Sha256.hmac(secret, Hmac.keyedWith(secret), data)).as("key %d bytes, data %d bytes",
                    key.length, data.length).isEqualTo(jdkHmac(key, data));
            assertThat(Sha256.digest(data)).isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
        }
    }

    private static boolean libcryptoExpected() {
        return Platform.isLinux() && Native.SIZE_T_SIZE == 8 && !"jdk".equals(System.getProperty(Sha256.PROPERTY));
    }

    /**
     * The check runs on its own thread: an Error it dies of (JNA reports a crash in the library as a
     * plain java.lang.Error) must leave the JDK in use, not libcrypto bound but never verified.
     */
    @Test
    void anyErrorDuringTheCheckLeavesTheJdkInUseNotLibcryptoHalfChecked() {
        for (Error injected : new Error[] {new StackOverflowError("injected"), new OutOfMemoryError("injected"),
                new Error("Invalid memory access"), new AssertionError("injected")}) {
            Sha256.Decision decision = Sha256.decide(new Sha256.Check(() -> {
                throw injected;
            }));

            assertThat(decision.nativeOn()).as(injected.toString()).isFalse();
            assertThat(decision.md()).as("no SHA-256 method of libcrypto (0: NULL)").isZero();
            if (libcryptoExpected()) {
                assertThat(decision.description()).isEqualTo("the JDK (checking libcrypto failed: " + injected + ")");
            }
        }
        assertThat(Sha256.decide(new Sha256.Check()).nativeOn()).as("the same check, not failed")
                .isEqualTo(libcryptoExpected());
    }

    @Test
    void theKeysNativeCopyIsZeroedBeforeItIsFreed() {
        byte[] key = "a-signing-secret-of-some-length".getBytes(StandardCharsets.US_ASCII);
        Sha256.NativeKey copy = Sha256.NativeKey.of(key);
        try {
            assertThat(copy.pointer.getByteArray(0, key.length)).isEqualTo(key);

            copy.wipe();

            assertThat(copy.pointer.getByteArray(0, key.length)).isEqualTo(new byte[key.length]);
        } finally {
            copy.close();
        }
        assertThat(key).as("the secret's own bytes are kept").isEqualTo("a-signing-secret-of-some-length"
                .getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void theJdkIsUsedWhenThePropertyAsksForIt() throws Exception {
        // Decided once per class loader: a fresh one over the same classes.
        URL classes = Sha256.class.getProtectionDomain().getCodeSource().getLocation();
        URL jna = Native.class.getProtectionDomain().getCodeSource().getLocation();
        String before = System.getProperty(Sha256.PROPERTY);
        System.setProperty(Sha256.PROPERTY, "jdk");
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes, jna}, ClassLoader.getPlatformClassLoader())) {
            Class<?> isolated = loader.loadClass(Sha256.class.getName());
            assertThat(isolated.getMethod("implementation").invoke(null))
                    .isEqualTo("the JDK (-Dbuildhook.crypto=jdk asks for it)");
            byte[] data = "abc".getBytes(StandardCharsets.US_ASCII);
            assertThat((byte[]) isolated.getMethod("digest", byte[].class).invoke(null, (Object) data))
                    .isEqualTo(MessageDigest.getInstance("SHA-256").digest(data));
        } finally {
            if (before == null) {
                System.clearProperty(Sha256.PROPERTY);
            } else {
                System.setProperty(Sha256.PROPERTY, before);
            }
        }
    }
}
