package org.buildhook.runner.engine;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import org.buildhook.runner.exec.CommonsExecLauncher;
import org.buildhook.runner.exec.LauncherConfig;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.TestStores;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * One SQLite store in a folder of the test's own, a real launcher and an engine of node-a (created, not
 * started), with everything logged kept in {@link #log}; all closed after each test.
 */
abstract class SqliteEngineFixture {

    @TempDir
    Path dir;
    Store store;
    CommonsExecLauncher launcher;
    JobEngine engine;
    final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);

    /** The engine's configuration, of node {@code node-a}. */
    abstract EngineConfig engineConfig();

    @BeforeEach
    void open() {
        log.start();
        root.addAppender(log);
        store = Store.open(TestStores.sqlite(dir.resolve("data")));
        launcher = CommonsExecLauncher.create(LauncherConfig.defaults(dir.resolve("logs")));
        engine = JobEngine.create(store, launcher, engineConfig());
    }

    @AfterEach
    void close() {
        root.detachAppender(log);
        engine.stop();
        store.close();
        launcher.close();
    }
}
