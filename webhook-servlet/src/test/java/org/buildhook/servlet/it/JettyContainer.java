package org.buildhook.servlet.it;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.util.resource.ResourceFactory;
import org.eclipse.jetty.xml.XmlConfiguration;

/** Embedded Jetty 12 (ee10) on port 0, deploying the WAR with a WebAppContext. */
final class JettyContainer implements Container {

    private final Server server = new Server();
    private final ServerConnector connector = new ServerConnector(server);
    private final ContextHandlerCollection contexts = new ContextHandlerCollection();
    private final Path base;
    private WebAppContext webapp;
    private boolean extractWar = true;

    JettyContainer(Path base) throws Exception {
        this(base, null);
    }

    /**
     * @param serverXml a Jetty XML file ({@code <Configure id="Server">}) applied to the server before
     *                  it starts, as {@code start.jar} applies one named in {@code start.d/*.ini}; or null
     */
    JettyContainer(Path base, String serverXml) throws Exception {
        this.base = base;
        if (serverXml != null) {
            Path xml = Files.writeString(Files.createDirectories(base).resolve("server.xml"), serverXml);
            new XmlConfiguration(ResourceFactory.root().newResource(xml)).configure(server);
        }
        connector.setPort(0);
        connector.setHost("127.0.0.1");
        server.addConnector(connector);
        server.setHandler(contexts);
        server.start();
    }

    /** docs/deploying.md's server error handler for Jetty: JSON for what Jetty refuses before the application. */
    static String documentedErrorHandler() throws java.io.IOException {
        return org.buildhook.servlet.Docs.codeBlock("deploying.md", "## Errors the container answers itself", "xml",
                "org.eclipse.jetty.server.handler.ReHandlingErrorHandler");
    }

    /** Whether a WAR is extracted before it runs ({@code extractWAR}; Jetty's default: true). */
    JettyContainer extractWar(boolean value) {
        extractWar = value;
        return this;
    }

    @Override
    public boolean deploy(Path war, Path config) throws Exception {
        Path temp = Files.createDirectories(base.resolve("jetty-work"));
        webapp = new WebAppContext();
        webapp.setContextPath("/buildhook");
        webapp.setWar(war.toString());
        webapp.setTempDirectory(temp.toFile());
        webapp.setExtractWAR(extractWar);
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
