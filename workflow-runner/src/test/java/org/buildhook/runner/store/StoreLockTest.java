package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.buildhook.runner.RunnerException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreLockTest {

    @TempDir
    Path dir;

    /** As every other time in the log: to the millisecond, not the clock's nanoseconds (…T23:16:16.961609467Z). */
    @Test
    void aSecondServerIsToldWhenTheFirstStartedToTheMillisecond() {
        StoreConfig config = StoreConfig.sqlite(dir);
        try (StoreLock first = StoreLock.acquire(config)) {
            assertThatThrownBy(() -> StoreLock.acquire(config)).hasMessageContaining("is already serving the SQLite");
            assertThat(java.nio.file.Files.exists(dir.resolve("buildhook.db.lock"))).isTrue();
            String holder = readQuietly(dir.resolve("buildhook.db.lock"));
            assertThat(holder).matches("(?s)pid \\d+ on .+, started \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{3})?Z\\n"
                    + "data-dir " + java.util.regex.Pattern.quote(dir.toAbsolutePath().normalize().toString()) + "\\n");
        }
    }

    /**
     * A start on a thread whose interrupt flag is set (a container that stops while it deploys the web application)
     * takes the lock, keeps it, writes this server into the lock file, and keeps the flag. Before, the lock file's
     * FileChannel closed itself at its first read (ClosedByInterruptException, swallowed), which released the lock:
     * the start went on believing it held a lock the kernel had let go, and the file named no server (interrupt45).
     */
    @Test
    void aStartOnAnInterruptedThreadKeepsTheLockAndTheInterrupt() throws Exception {
        StoreConfig config = StoreConfig.sqlite(dir);
        StoreLock lock;
        boolean stillInterrupted;
        Thread.currentThread().interrupt();
        try {
            lock = StoreLock.acquire(config);
        } finally {
            stillInterrupted = Thread.interrupted();
        }
        try (StoreLock taken = lock) {
            assertThat(stillInterrupted).as("the interrupt is kept").isTrue();
            assertThat(readQuietly(dir.resolve("buildhook.db.lock")))
                    .startsWith("pid " + ProcessHandle.current().pid() + " on ");
            // The lock is still this JVM's: another channel of the file cannot take it. (Closing that channel then
            // releases the process's lock in the kernel: the last look of this test.)
            try (java.nio.channels.FileChannel other = java.nio.channels.FileChannel.open(
                    dir.resolve("buildhook.db.lock"), java.nio.file.StandardOpenOption.WRITE)) {
                assertThatThrownBy(other::tryLock).isInstanceOf(java.nio.channels.OverlappingFileLockException.class);
            }
        }
    }

    /**
     * A lock held by another class loader of this JVM is a previous copy of the web application (Jetty 12 starts the
     * new copy of a redeployed WAR before it stops the old one): the refusal and the wait's end say so, and never call
     * this JVM "another buildhook (pid <this JVM's pid>)" (tryout32 F1(b): the operator looked for another process).
     */
    @Test
    void aLockHeldByAnotherClassLoaderOfThisJvmIsNamedAsAPreviousCopyOfTheWebApplication() throws Exception {
        java.net.URL classes = StoreLock.class.getProtectionDomain().getCodeSource().getLocation();
        try (java.net.URLClassLoader copy = new ChildFirst(classes, StoreLockTest.class.getClassLoader())) {
            Class<?> config = copy.loadClass(StoreConfig.class.getName());
            Class<?> lock = copy.loadClass(StoreLock.class.getName());
            assertThat(lock).isNotSameAs(StoreLock.class);
            AutoCloseable held = (AutoCloseable) lock.getMethod("acquire", config)
                    .invoke(null, config.getMethod("sqlite", Path.class).invoke(null, dir));
            try {
                String pid = "pid " + ProcessHandle.current().pid() + " on ";
                assertThatThrownBy(() -> StoreLock.acquire(StoreConfig.sqlite(dir))).isInstanceOf(RunnerException.class)
                        .hasMessageStartingWith("a previous copy of this web application in this JVM (" + pid)
                        .hasMessageContaining("is still serving the SQLite database")
                        .hasMessageNotContaining("another buildhook");
                StoreLock.Pending pending = StoreLock.attempt(StoreConfig.sqlite(dir)).pending();
                assertThat(pending).isNotNull();
                try {
                    assertThatThrownBy(() -> pending.await(java.time.Duration.ofMillis(300)))
                            .isInstanceOf(RunnerException.class)
                            .hasMessageStartingWith("a previous copy of this web application in this JVM (" + pid)
                            .hasMessageContaining("still serves the SQLite database")
                            .hasMessageContaining("it did not stop")
                            .hasMessageNotContaining("another buildhook");
                } finally {
                    pending.close();
                }
            } finally {
                held.close();
            }
        }
    }

    /** Loads buildhook's runner classes itself (as a web application's class loader does), the rest from its parent. */
    private static final class ChildFirst extends java.net.URLClassLoader {
        ChildFirst(java.net.URL classes, ClassLoader parent) {
            super(new java.net.URL[] {classes}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                if (!name.startsWith("org.buildhook.runner.")) {
                    return super.loadClass(name, resolve);
                }
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    c = findClass(name);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }

    /**
     * The lock file is only a courtesy (who holds the lock, and with which data folder): one whose
     * {@code data-dir} line is not a path (a torn write left a NUL in it) is ignored, not a start that
     * fails with InvalidPathException and keeps failing until someone deletes the file (review14 F5).
     */
    @Test
    void aLockFileWhoseDataDirLineIsNotAPathDoesNotStopTheStart() throws Exception {
        StoreConfig config = StoreConfig.sqlite(dir);
        java.nio.file.Files.writeString(dir.resolve("buildhook.db.lock"), "pid 1 on elsewhere, started 2026-12-01T00:00:00Z\n"
                + "data-dir /var/lib/build\u0000\u0000hook\n");
        try (StoreLock lock = StoreLock.acquire(config)) {
            assertThat(readQuietly(dir.resolve("buildhook.db.lock"))).contains("data-dir "
                    + dir.toAbsolutePath().normalize());
        }
        try (StoreLock again = StoreLock.acquire(config)) {
            assertThat(again).isNotNull();
        }
    }

    private static String readQuietly(Path file) {
        try {
            return java.nio.file.Files.readString(file);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
