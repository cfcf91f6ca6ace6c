package org.buildhook.servlet.it;

import java.nio.file.Path;

/** The HTTP contract with the WAR in Tomcat 10.1. */
class TomcatWebhookIT extends AbstractWebhookIT {

    @Override
    Container container(Path base) throws Exception {
        return new TomcatContainer(base, 0, TomcatContainer.documentedErrorReportValve());
    }
}
