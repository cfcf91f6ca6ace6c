package org.buildhook.servlet.config;

import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.KeyStoreException;
import java.security.UnrecoverableKeyException;
import java.util.Collections;
import java.util.Optional;

/**
 * Opens the standalone server's TLS keystore as Jetty will (the JDK's PKCS12 or JKS loader, the key
 * with the keystore's password), so that a wrong file or password is a mistake of the configuration
 * with its key, said by {@code check} and before {@code serve} writes anything, rather than the
 * JDK's words when the listener starts ({@code toDerInputStream rejects tag type 114},
 * {@code BadPaddingException}).
 */
final class KeystoreCheck {

    /**
     * What is wrong; {@code password} says whether it is the password's key that is to blame, {@code notRead} that the
     * file could not be read at all (its mode, owner, a mount), which is no mistake of the configuration.
     */
    record Problem(boolean password, String message, boolean notRead) {

        Problem(boolean password, String message) {
            this(password, message, false);
        }
    }

    private KeystoreCheck() {
    }

    /** The problem with {@code file} opened with {@code password}, if any; never the password. */
    static Optional<Problem> problem(Path file, char[] password) {
        try {
            java.nio.file.Files.newInputStream(file).close();
        } catch (IOException e) {
            return Optional.of(new Problem(false, "cannot read keystore " + file + " ("
                    + org.buildhook.core.IoProblems.describe(e) + ")", true));
        }
        KeyStore store;
        try {
            store = KeyStore.getInstance(file.toFile(), password);
        } catch (KeyStoreException e) {
            return Optional.of(new Problem(false, "keystore " + file + " is not a PKCS12 (or JKS) keystore;"
                    + " make one with keytool -genkeypair -storetype PKCS12, or convert a PEM certificate and key"
                    + " with openssl pkcs12 -export"));
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException) {
                return Optional.of(new Problem(true, "does not open keystore " + file + ": the password is wrong"));
            }
            return Optional.of(new Problem(false, "cannot read keystore " + file + " (" + e.getMessage() + ")"));
        } catch (GeneralSecurityException e) {
            return Optional.of(new Problem(false, "cannot read keystore " + file + " (" + e.getMessage() + ")"));
        }
        try {
            for (String alias : Collections.list(store.aliases())) {
                if (store.isKeyEntry(alias)) {
                    store.getKey(alias, password);
                    return Optional.empty();
                }
            }
        } catch (UnrecoverableKeyException e) {
            return Optional.of(new Problem(true, "opens keystore " + file + " but not its private key, which has"
                    + " another password; give the key the keystore's password (keytool -keypasswd)"));
        } catch (GeneralSecurityException e) {
            return Optional.of(new Problem(false, "cannot read the private key of keystore " + file + " ("
                    + e.getMessage() + ")"));
        }
        return Optional.of(new Problem(false, "keystore " + file + " holds no private key, only certificates:"
                + " HTTPS needs the server's certificate with its key"));
    }
}
