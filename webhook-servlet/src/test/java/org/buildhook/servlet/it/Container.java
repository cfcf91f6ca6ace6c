package org.buildhook.servlet.it;

import java.net.URI;
import java.nio.file.Path;

/** A real servlet container serving the built WAR, for the integration tests. */
interface Container extends AutoCloseable {

    /** Deploys the WAR at {@code /buildhook} with the given configuration file; true if it started. */
    boolean deploy(Path war, Path config) throws Exception;

    /** Undeploys it again (the container keeps running). */
    void undeploy() throws Exception;

    /** The application's base URI, ending with {@code /}. */
    URI base();

    /** Stops the container; failures are unchecked so try-with-resources stays simple. */
    @Override
    void close();

    /** The built WAR, as Maven made it in the package phase. */
    static Path war() {
        return Path.of(System.getProperty("buildhook.war"));
    }
}
