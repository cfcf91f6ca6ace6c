package org.buildhook.runner.engine;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The node JVMs ({@link NodeProcess}) one test starts, each ended when the test ends: woken first (a test may have
 * left it stopped), then killed ({@link NodeProcess#continueAndKill}), before the test's folder is removed. A test
 * class holds one in a field: {@code @RegisterExtension final StartedNodes nodes = new StartedNodes();}.
 */
final class StartedNodes implements AfterEachCallback {

    private final List<NodeProcess> started = new ArrayList<>();

    /**
     * Starts a node JVM ({@link NodeProcess#start(Path, String, String...)}), ended at the test's end.
     *
     * @param dir  the folder of its output ({@code <name>.out}, {@code <name>.err})
     * @param name its node id
     * @param args its {@code key=value} arguments ({@link EngineNode})
     * @return the node, started (not yet ready: wait for its {@code READY} line)
     * @throws IOException when its JVM could not be started
     */
    NodeProcess start(Path dir, String name, String... args) throws IOException {
        NodeProcess node = NodeProcess.start(dir, name, args);
        started.add(node);
        return node;
    }

    /** @return the nodes started so far, in the order they were started */
    List<NodeProcess> all() {
        return List.copyOf(started);
    }

    @Override
    public void afterEach(ExtensionContext context) throws Exception {
        try {
            NodeProcess.continueAndKill(started);
        } finally {
            started.clear();
        }
    }
}
