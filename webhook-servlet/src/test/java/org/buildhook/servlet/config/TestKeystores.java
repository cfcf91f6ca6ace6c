package org.buildhook.servlet.config;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Real PKCS12 keystores for the tests, made by the JDK's own keytool. */
final class TestKeystores {

    private TestKeystores() {
    }

    /** A keystore at {@code file} with a self-signed certificate for localhost and its key, both under {@code password}. */
    static Path withKey(Path file, String password) throws IOException, InterruptedException {
        keytool("-genkeypair", "-alias", "buildhook", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", password);
        return file;
    }

    /** A keystore at {@code file} holding only the certificate of {@code withKey}, no private key. */
    static Path certificateOnly(Path file, Path withKey, String password) throws IOException, InterruptedException {
        Path cert = file.resolveSibling(file.getFileName() + ".cer");
        keytool("-exportcert", "-alias", "buildhook", "-keystore", withKey.toString(), "-storepass", password,
                "-file", cert.toString());
        keytool("-importcert", "-noprompt", "-alias", "buildhook", "-file", cert.toString(), "-storetype", "PKCS12",
                "-keystore", file.toString(), "-storepass", password);
        return file;
    }

    private static void keytool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
        }
    }
}
