package org.buildhook.servlet.it;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.catalina.Context;
import org.apache.catalina.LifecycleState;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.core.StandardHost;
import org.apache.catalina.startup.Constants;
import org.apache.catalina.startup.ContextConfig;
import org.apache.catalina.startup.Tomcat;

/** Embedded Tomcat 10.1 on port 0. */
final class TomcatContainer implements Container {

    private final Tomcat tomcat = new Tomcat();
    private Context context;

    TomcatContainer(Path base) throws Exception {
        this(base, 0);
    }

    /** With at most {@code maxThreads} request threads ({@code 0}: Tomcat's default, 200). */
    TomcatContainer(Path base, int maxThreads) throws Exception {
        this(base, maxThreads, null);
    }

    /** @param errorReportValveClass the Host's {@code errorReportValveClass}, or null for Tomcat's default */
    TomcatContainer(Path base, int maxThreads, String errorReportValveClass) throws Exception {
        this(base, maxThreads, errorReportValveClass, java.util.Map.of());
    }

    /** @param connector properties of the connector, as {@code <Connector>} attributes in {@code server.xml} */
    TomcatContainer(Path base, int maxThreads, String errorReportValveClass, java.util.Map<String, String> connector)
            throws Exception {
        Files.createDirectories(base.resolve("webapps"));
        if (errorReportValveClass != null) {
            ((StandardHost) tomcat.getHost()).setErrorReportValveClass(errorReportValveClass);
        }
        tomcat.setBaseDir(base.toString());
        tomcat.getHost().setAppBase(base.resolve("webapps").toString());
        tomcat.setPort(0);
        // After the port: the first getConnector() makes the connector, on the port set by then.
        connector.forEach((name, value) -> tomcat.getConnector().setProperty(name, value));
        if (maxThreads > 0) {
            tomcat.getConnector().setProperty("maxThreads", Integer.toString(maxThreads));
        }
        tomcat.getConnector();
        tomcat.start();
    }

    /** docs/deploying.md's {@code errorReportValveClass} for Tomcat's Host. */
    static String documentedErrorReportValve() throws java.io.IOException {
        java.util.regex.Matcher valve = java.util.regex.Pattern.compile("errorReportValveClass=\"([^\"]+)\"")
                .matcher(org.buildhook.servlet.Docs.codeBlock("deploying.md", "## Errors the container answers itself",
                        "xml", "errorReportValveClass"));
        if (!valve.find()) {
            throw new AssertionError("docs/deploying.md names no errorReportValveClass");
        }
        return valve.group(1);
    }

    /** Whether the Host unpacks a WAR it deploys ({@code unpackWARs} in {@code server.xml}; Tomcat's default: true). */
    TomcatContainer unpackWars(boolean value) {
        ((StandardHost) tomcat.getHost()).setUnpackWARs(value);
        return this;
    }

    @Override
    public boolean deploy(Path war, Path config) {
        // As Tomcat.addWebapp does, but with the init-parameter set before the running host starts it.
        StandardContext ctx = new StandardContext();
        ctx.setName("/buildhook");
        ctx.setPath("/buildhook");
        ctx.setDocBase(war.toString());
        ctx.addLifecycleListener(new Tomcat.FixContextListener());
        ContextConfig contextConfig = new ContextConfig();
        contextConfig.setDefaultWebXml(Constants.NoDefaultWebXml);
        ctx.addLifecycleListener(contextConfig);
        if (config != null) { // null: as after Tomcat deleted the context file with the WAR
            ctx.addParameter("buildhook.config", config.toString());
        }
        context = ctx;
        tomcat.getHost().addChild(ctx);
        // A listener that throws leaves the context FAILED (or stopped) rather than STARTED.
        return context.getState() == LifecycleState.STARTED;
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
    public void close() {
        try {
            tomcat.stop();
            tomcat.destroy();
        } catch (org.apache.catalina.LifecycleException e) {
            throw new IllegalStateException(e);
        }
    }
}
