package org.buildhook.servlet;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import org.buildhook.runner.store.HealthReport;

/**
 * {@code GET /healthz}: 200 when the store answers, the pool deliveries use gives connections,
 * and its writes work, else 503 with {@code Retry-After}. For load balancers and monitors: a server whose
 * store cannot write (read-only, disk full, data directory deleted, SQLite's lock held by another
 * program) or whose pools give no connection (HikariCP's waits of {@code store.connect-timeout} ending
 * empty) would answer every delivery 503, so it is not healthy. The
 * body says which of the two failed and what is wrong in a few words ({@link HealthReport}: does not
 * answer, refuses connections for want of disk space, cannot write…), never the driver's message
 * (that is in the log). During a graceful stop it answers
 * 503 with {@code "status": "stopping"}, so a load balancer drains the node while it still stores
 * what it is sent. A node that starts no jobs because it cannot write its data folder (payload files,
 * job logs) while its store works answers 200 with {@code "status": "degraded"} and the {@code error}
 * naming the folder: it still stores deliveries, which a 503 would send elsewhere or (a single node
 * behind a load balancer) have refused, but a monitor sees it. The same {@code "degraded"} 200 while only
 * the pools of jobs ({@code buildhook-scheduler}) or of the node id give no connection, or only the jobs'
 * statements are refused a table lock (PostgreSQL), the {@code error} naming the pool or the table; and, for good,
 * once another node took this node's {@code runner.node-id} over ({@link #NODE_ID_TAKEN_OVER}).
 */
public final class HealthServlet extends HttpServlet {

    /** The {@code error} of a {@code degraded} answer: fixed text, naming no file. */
    static final String JOBS_PAUSED = "jobs do not start on this node: it cannot write a folder a job needs (its"
            + " payload files or job logs); the server log and the status page say which, and why";

    /**
     * The {@code error} of a {@code degraded} answer of a node forgotten whose node id's lock cannot be asked: it
     * launches no job until it claims its id again (lock30). Fixed text.
     */
    static final String NODE_ID_UNCLAIMED = "jobs do not start on this node for now: its runner.node-id is no longer"
            + " claimed in the store (this node was forgotten while it was silent) and its lock cannot be asked (the"
            + " pool buildhook-node-id has no connection); they start again once the id is claimed again";

    /**
     * The {@code error} of a {@code degraded} answer of a node whose {@code runner.node-id} another node took over:
     * it takes no more jobs, for good (tryout29 F1: it answered a plain "ok"). Fixed text, naming no other host.
     */
    static final String NODE_ID_TAKEN_OVER = "jobs do not start on this node, for good: its runner.node-id was taken"
            + " over by another node, and two nodes must not run under one id; the server log says which; give each"
            + " node its own runner.node-id and restart this one";

    /** What a {@code degraded} answer says first when the store keeps jobs from starting (then why). */
    static final String JOBS_NOT_STARTED = "jobs do not start on this node, deliveries are still stored: ";

    private static final long serialVersionUID = 1L;

    @Override
    protected void doGet(HttpServletRequest request, HttpServletResponse response) throws IOException {
        BuildhookApplication app = BuildhookApplication.from(getServletContext());
        if (app.stopping()) {
            // Still receiving (deliveries are stored until the port closes), but on its way out:
            // a load balancer or orchestrator should send new traffic elsewhere.
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            new JsonAnswer().with("status", "stopping").with("error",
                    "this node is stopping: deliveries are still stored, jobs wait for the next start")
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        HealthReport health = app.store().healthReport();
        // Still 200: the node stores what it is sent (a load balancer keeps sending; the jobs run on
        // the other nodes, or here once it can write again), but a monitor must see it (tryout17 F3).
        // Without the folder and the system's error: /healthz answers anyone, and those may name files
        // (review18 R7); the log and the signed-in console say which. The same for the pools of jobs and
        // of the node id giving no connection while the deliveries' gives them (tryout25 F2).
        java.util.Optional<String> degraded = !health.ok() ? java.util.Optional.empty()
                : app.nodeIdTakenOver().isPresent() ? java.util.Optional.of(NODE_ID_TAKEN_OVER)
                : app.nodeIdUnclaimed().isPresent() ? java.util.Optional.of(NODE_ID_UNCLAIMED)
                : app.jobsPaused().isPresent() ? java.util.Optional.of(JOBS_PAUSED)
                : app.store().jobsOnlyTrouble().map(why -> JOBS_NOT_STARTED + why);
        if (degraded.isPresent()) {
            new JsonAnswer().with("status", "degraded").with("error", degraded.get())
                    .send(response, HttpServletResponse.SC_OK);
        } else if (health.ok()) {
            new JsonAnswer().with("status", "ok").send(response, HttpServletResponse.SC_OK);
        } else {
            response.setHeader("Retry-After", Long.toString(app.config().http().retryAfter().toSeconds()));
            new JsonAnswer().with("status", "unavailable").with("error", health.reason())
                    .send(response, HttpServletResponse.SC_SERVICE_UNAVAILABLE);
        }
    }
}
