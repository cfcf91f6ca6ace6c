package org.buildhook.benchmarks.limits;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The durable-accept floor: the least any receiver must do before it may answer {@code 202} under
 * buildhook's guarantee that an accepted delivery is on disk. A servlet that reads the whole body
 * (blocking, as {@link BareServlet} does), hands it to one writer thread that inserts it into one
 * SQLite table and commits with {@code synchronous = FULL} in write-ahead-log mode (the same
 * durability as buildhook's accept: the commit's {@code fsync} before the answer), grouping every
 * body that waits into one transaction (group commit), and answers a small JSON {@code 202}. No
 * signature, no parsing, no rules, no jobs, no log line: what buildhook's durable {@code 202} costs
 * beyond this is its own work; what this costs beyond {@link BareServlet} is durability's.
 *
 * <pre>
 * java -XX:TieredStopAtLevel=1 -cp benchmarks/target/benchmarks.jar org.buildhook.benchmarks.limits.DurableServlet PORT DIR
 * </pre>
 *
 * Runs until killed; prints {@code listening on PORT} once it accepts connections. The database is
 * {@code DIR/durable-floor.db}, created if missing.
 */
public final class DurableServlet extends HttpServlet {

    private static final long serialVersionUID = 1L;
    private static final byte[] ANSWER = "{\"accepted\":true}\n".getBytes(StandardCharsets.UTF_8);
    /** At most this many bodies per transaction, as buildhook's writer bounds its batches. */
    private static final int MAX_BATCH = 256;

    private final transient BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();

    private record Pending(byte[] body, CompletableFuture<Void> committed) {
    }

    /** Reads the whole body, waits for its commit, then answers {@code 202}. */
    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        byte[] body;
        try (InputStream in = request.getInputStream()) {
            body = in.readAllBytes();
        }
        Pending pending = new Pending(body, new CompletableFuture<>());
        queue.add(pending);
        try {
            pending.committed().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        } catch (ExecutionException e) {
            response.sendError(HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            return;
        }
        response.setStatus(HttpServletResponse.SC_ACCEPTED);
        response.setContentType("application/json");
        response.setContentLength(ANSWER.length);
        response.getOutputStream().write(ANSWER);
    }

    /** The writer: takes what waits, inserts it in one transaction, commits, then releases the callers. */
    private void write(Connection connection) {
        List<Pending> batch = new ArrayList<>(MAX_BATCH);
        try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO deliveries (received_ns, body) VALUES (?, ?)")) {
            while (true) {
                batch.add(queue.take());
                queue.drainTo(batch, MAX_BATCH - 1);
                try {
                    for (Pending pending : batch) {
                        insert.setLong(1, System.nanoTime());
                        insert.setBytes(2, pending.body());
                        insert.executeUpdate();
                    }
                    connection.commit();
                    batch.forEach(p -> p.committed().complete(null));
                } catch (SQLException e) {
                    connection.rollback();
                    batch.forEach(p -> p.committed().completeExceptionally(e));
                }
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException e) {
            throw new IllegalStateException("the durable floor's writer failed", e);
        }
    }

    /**
     * Serves on {@code args[0]} (0: any free port) at 127.0.0.1, storing into {@code args[1]}, until the
     * JVM is stopped.
     *
     * @throws Exception when the database cannot be opened or the server cannot start
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: DurableServlet PORT DIR");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path dir = Files.createDirectories(Path.of(args[1]));
        // The driver directly: the benchmarks jar's merged service file names only one driver.
        Connection connection = new org.sqlite.JDBC().connect("jdbc:sqlite:" + dir.resolve("durable-floor.db"),
                new Properties());
        try (Statement s = connection.createStatement()) {
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("PRAGMA synchronous = FULL");
            s.execute("PRAGMA temp_store = MEMORY");
            s.execute("CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, received_ns INTEGER NOT NULL,"
                    + " body BLOB NOT NULL)");
        }
        connection.setAutoCommit(false);
        DurableServlet servlet = new DurableServlet();
        Thread writer = new Thread(() -> servlet.write(connection), "durable-floor-writer");
        writer.setDaemon(true);
        writer.start();
        BareServlet.serve(port, servlet);
    }
}
