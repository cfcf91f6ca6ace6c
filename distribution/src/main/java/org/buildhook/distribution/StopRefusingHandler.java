package org.buildhook.distribution;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.buildhook.core.LogSafe;
import org.buildhook.servlet.ErrorBody;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jetty's {@link GracefulHandler} (requests in flight finish before the context stops), with its answer to a
 * request that comes on a connection still open once Jetty's own stop has begun (after buildhook's drain, while
 * it waits for the requests in flight): {@code 503} with {@code Retry-After} and {@link ErrorBody#stopping},
 * where Jetty's plain {@code 503} was rendered as "internal error; the server log has the details" with nothing
 * logged (tryout38 F5). A webhook delivery refused so is logged, once, with what is known of it: its body is not
 * read, so its build is not.
 */
final class StopRefusingHandler extends GracefulHandler {

    private static final Logger LOG = LoggerFactory.getLogger(StopRefusingHandler.class);

    private final String contextPath;
    private final Supplier<Duration> retryAfter;
    /**
     * Answers of jobs' logs ({@code …/api/jobs/{id}/log}, the follows among them) not at their end yet: counted until
     * Jetty has ended the answer's stream, which is after the servlet's {@code onComplete} and after Jetty gave the
     * connection back its idle timeout ({@link #awaitLogsAnswered}).
     */
    private final AtomicInteger logsInFlight = new AtomicInteger();

    /**
     * @param retryAfter {@code http.retry-after} of the running application (its default when there is none)
     */
    StopRefusingHandler(Handler handler, String contextPath, Supplier<Duration> retryAfter) {
        super(handler);
        this.contextPath = contextPath;
        this.retryAfter = retryAfter;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) throws Exception {
        if (isJobLog(request.getHttpURI().getPath())) {
            logsInFlight.incrementAndGet();
            Request.addCompletionListener(request, failure -> {
                synchronized (logsInFlight) {
                    logsInFlight.decrementAndGet();
                    logsInFlight.notifyAll();
                }
            });
        }
        return super.handle(request, response, callback);
    }

    /**
     * Waits until no answer of a job's log is under way, or {@code most} passed; whether none is. The graceful stop
     * calls it after the drain, which ended the follows: Jetty's own stop gives an open connection one second without
     * progress, then fails the write under way, so a follow still sending its last lines as that stop began (its write
     * delayed on a loaded machine, a client on a slow link) lost them with the answer's end (FollowDuringGracefulStopTest
     * under stress-ng; flaky57). Counted to the answer's stream end, not the servlet's onComplete: Jetty gives the
     * connection back its own idle timeout after onComplete, and a stop begun in between then waited that timeout out
     * (stop-timeout, "while stopping the HTTP server: TimeoutException").
     *
     * @param most the longest wait
     */
    boolean awaitLogsAnswered(Duration most) {
        long deadline = System.nanoTime() + most.toNanos();
        synchronized (logsInFlight) {
            long left;
            while (logsInFlight.get() > 0 && (left = deadline - System.nanoTime()) > 0) {
                try {
                    logsInFlight.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return logsInFlight.get() == 0;
        }
    }

    /** Whether {@code path} is a job's log ({@code <context>/api/jobs/<id>/log}). */
    private boolean isJobLog(String path) {
        String jobs = (contextPath.endsWith("/") ? contextPath : contextPath + "/") + "api/jobs/";
        return path != null && path.startsWith(jobs) && path.endsWith("/log")
                && path.indexOf('/', jobs.length()) == path.length() - "/log".length();
    }

    @Override
    protected void handleShutdownRejection(Request request, Response response, Callback callback) {
        long seconds = retryAfter.get().toSeconds();
        String path = request.getHttpURI().getPath();
        // Only a POST is a delivery: a scanner's or a probe's GET on an open connection is no lost build (review39).
        if (isWebhook(path) && "POST".equals(request.getMethod())) {
            LOG.warn("delivery {} {} from {} came after the graceful stop's drain, as the port closes: answered 503"
                    + " with Retry-After: {} (the server is stopping), not read and not stored, so its build is not"
                    + " known; JobServ sends it again after 1, 2 and 4 s, which a server running again by then"
                    + " takes, else have JobServ send that build again", request.getMethod(), LogSafe.of(path),
                    Request.getRemoteAddr(request), seconds);
        } else {
            LOG.debug("{} {} came after the graceful stop's drain: answered 503 (the server is stopping)",
                    request.getMethod(), LogSafe.of(path));
        }
        byte[] body = ErrorBody.stopping(contextPath).getBytes(StandardCharsets.UTF_8);
        response.setStatus(503);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
        response.getHeaders().put(HttpHeader.RETRY_AFTER, Long.toString(seconds));
        response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    private boolean isWebhook(String path) {
        String webhook = ErrorBody.webhookPath(contextPath);
        return path != null && (path.equals(webhook) || path.startsWith(webhook + "/"));
    }
}
