package org.buildhook.servlet;

/**
 * For the distribution's browser tests of the status page's panel of builds to re-send: records a build as
 * answered 503, as the delivery service does when the store cannot take it, without an outage (the outage itself
 * is tested end to end in {@code RefusedBuildsAfterOutageTest}). In the servlet's package because the list is not
 * public.
 */
public final class RefusedBuildsForTests {

    private RefusedBuildsForTests() {
    }

    /** Lists build {@code buildId} of {@code endpoint} as refused once more, as a 503 answered to JobServ does. */
    public static void refuse(BuildhookApplication app, String endpoint, long buildId, String project, String status,
            String trigger) {
        app.deliveries().refusedBuilds().refused(endpoint, buildId, project, status, trigger);
    }
}
