package org.buildhook.servlet;

import jakarta.servlet.ServletContext;

/**
 * For the distribution's tests of folded refusals over real HTTP: holds the running application's
 * refusal windows open until it stops, so that what folds does not depend on how fast a loaded machine
 * brings the refusals about (the windows' own 10 s timer is tested in {@code RefusalLogTest}). In the
 * servlet's package because the refusal log is not public.
 */
public final class HeldRefusalWindows {

    private HeldRefusalWindows() {
    }

    /** From now on, every refusal window of the application running in {@code context} ends only when it stops. */
    public static void holdUntilStop(ServletContext context) {
        Object app = context.getAttribute(BuildhookApplication.ATTRIBUTE);
        if (!(app instanceof BuildhookApplication running)) {
            throw new IllegalStateException("no buildhook application runs in " + context.getContextPath());
        }
        running.deliveries().refusalLog().holdWindows();
    }
}
