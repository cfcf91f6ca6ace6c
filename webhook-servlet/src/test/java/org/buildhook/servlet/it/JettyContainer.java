package org.buildhook.servlet.it;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;

/** Embedded Jetty 12 (ee10) on port 0, deploying the WAR with a WebAppContext. */
final class JettyContainer implements Container {

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    private final ContextHandlerCollection contexts = new ContextHandlerCollection();
    private final Path base;
    private WebAppContext webapp;

    JettyContainer(Path base) throws Exception {
        this.base = base;
        connector.setPort(0);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(contexts);
        server.start();
    }

    @Override
    public boolean deploy(Path war, Path config) throws Exception {
        Path temp = Files.createDirectories(base.resolve("jetty-work"));
        webapp = new WebAppContext();
        webapp.setContextPath("/buildhook");
        webapp.setWar(war.toString());
        webapp.setTempDirectory(temp.toFile());
        webapp.setInitParameter("buildhook.config", config.toString());
        contexts.addHandler(webapp);
        webapp.start();
        return webapp.isAvailable();
    }

    @Override
    public void undeploy() throws Exception {
        webapp.stop();
        contexts.removeHandler(webapp);
        webapp = null;
    }

    @Override
    public URI base() {
        return URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/buildhook/");
    }

    @Override
    public void close() {
        try {
            // A context added to a running server is not managed by it: stop it as Jetty's deployer would.
            if (webapp != null) {
                webapp.stop();
            }
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
