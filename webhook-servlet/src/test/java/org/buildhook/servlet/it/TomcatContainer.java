package org.buildhook.servlet.it;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.startup.Tomcat;

/** Embedded Tomcat 10.1 on port 0. */
final class TomcatContainer implements Container {

    private final Tomcat tomcat = new Tomcat();
    private Context context;

    TomcatContainer(Path base) throws Exception {
        Files.createDirectories(base.resolve("webapps"));
        tomcat.setBaseDir(base.toString());
        tomcat.getHost().setAppBase(base.resolve("webapps").toString());
        tomcat.setPort(0);
        tomcat.getConnector();
        tomcat.start();
    }

    @Override
    public boolean deploy(Path war, Path config) {
        context = tomcat.addWebapp("/buildhook", war.toString());
        context.addParameter("buildhook.config", config.toString());
        // addWebapp starts the context with the running host; a failed listener leaves it FAILED.
        return context.getState() == LifecycleState.STARTED && context.getAvailable();
    }

    @Override
    public void undeploy() {
        tomcat.getHost().removeChild(context);
        context = null;
    }

    @Override
    public URI base() {
        return URI.create("http://127.0.0.1:" + tomcat.getConnector().getLocalPort() + "/buildhook/");
    }

    @Override
    public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }
}
