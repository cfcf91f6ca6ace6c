package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jetty.ee10.webapp.WebAppContext;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * The built WAR ({@code buildhook.war}) in a Jetty 12 (ee10) on a free port of 127.0.0.1 at
 * {@code /buildhook}, as Jetty's deployer would make its context (its {@code web.xml}, error page
 * included); for the ITs of the WAR. {@link #close} stops Jetty.
 */
final class WarInJetty implements AutoCloseable {

    private final Server jetty = new Server();
    /** The application's base URL, ending with {@code /buildhook/}. */
    final String base;

    /** Deploys the WAR with {@code config}; Jetty's work folder in {@code dir}. Fails if it did not start. */
    WarInJetty(Path dir, Path config) throws Exception {
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        WebAppContext webapp = new WebAppContext();
        webapp.setContextPath("/buildhook");
        webapp.setWar(System.getProperty("buildhook.war"));
        webapp.setTempDirectory(Files.createDirectories(dir.resolve("jetty-work")).toFile());
        webapp.setInitParameter("buildhook.config", config.toString());
        jetty.setHandler(webapp);
        jetty.start();
        assertThat(webapp.isAvailable()).as("the WAR deployed and started").isTrue();
        base = "http://127.0.0.1:" + connector.getLocalPort() + "/buildhook/";
    }

    @Override
    public void close() throws Exception {
        jetty.stop();
    }
}
