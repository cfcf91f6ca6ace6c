package org.buildhook.servlet.it;

import java.nio.file.Path;

/** The HTTP contract with the WAR in Jetty 12 (ee10). */
class JettyWebhookIT extends AbstractWebhookIT {

    @Override
    Container container(Path base) throws Exception {
        return new JettyContainer(base, JettyContainer.documentedErrorHandler());
    }
}
