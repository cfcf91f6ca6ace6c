package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes deliveries older than the retention age with their jobs, attempts, log files and payload
 * files, a small batch per transaction so that accepting never waits long behind it. Deliveries
 * with a job that has not ended (queued, running, waiting for shared resources or awaiting an
 * approval) or whose follow-up is still to be started are kept until it has: retention never takes
 * a job, an approval or a follow-up that is still owed. The files go from this node's disk only: what
 * it leaves on the disks of the nodes that ran the jobs, each of them removes ({@link OrphanFiles}).
 *
 * <p>A supersede key's row ({@code supersede_keys}: the newest build seen for a rule and key) goes
 * with the delivery of that newest build. While that delivery is kept, a late older build of the
 * key is superseded at once; once no build of the key has arrived for the whole retention age, the
 * key is forgotten like everything else of it, so keys that are never seen again (a renamed rule, a
 * key with the build id in it) do not pile up for ever.
 */
final class Retention {

    /** The states of a job that has not ended, as an SQL list. */
    private static final String UNFINISHED = java.util.Arrays.stream(JobState.values()).filter(s -> !s.isFinal())
            .map(s -> "'" + s.name() + "'").collect(java.util.stream.Collectors.joining(", ", "(", ")"));

    /** A delivery retention may take: none of its jobs is unfinished or still owes its follow-up. */
    private static final String DONE = "NOT EXISTS (SELECT 1 FROM jobs j WHERE j.delivery_id = d.id AND (j.state IN "
            + UNFINISHED + " OR j.follow_ups_pending = 1))";

    private static final Logger LOG = LoggerFactory.getLogger(Retention.class);

    private final Database db;
    private final Clock clock;
    private final Duration maxAge;
    private final int batch;
    private final Function<String, Path> payloadFile;
    private final java.util.function.Supplier<Path> logDirectory;

    /**
     * @param logDirectory this node's job log folder ({@code runner.log-dir}), or a supplier of null while it is
     *                     not known: the logs deleted are {@code <it>/<job id>/attempt-N.log}, never the path an
     *                     attempt recorded, which names the folder of the installation that ran it (a data folder
     *                     moved since, or the original of a restored copy, whose logs are not this store's to delete)
     */
    Retention(Database db, Clock clock, Duration maxAge, int batch, Function<String, Path> payloadFile,
            java.util.function.Supplier<Path> logDirectory) {
        this.db = db;
        this.clock = clock;
        this.maxAge = maxAge;
        this.batch = batch;
        this.payloadFile = payloadFile;
        this.logDirectory = logDirectory;
    }

    /** Runs batches until nothing is left to delete; returns how many deliveries went. */
    int sweep() {
        FileProblems problems = new FileProblems();
        try {
            return sweep(problems);
        } finally {
            // Also when a later batch's transaction failed: the files of the batches before are said.
            problems.log(LOG, "log file(s), log folder(s) or payload file(s) of the deliveries it deleted",
                    "the next sweeps look for them again among the files whose job or delivery is gone");
        }
    }

    private int sweep(FileProblems problems) {
        long cutoff = clock.instant().minus(maxAge).toEpochMilli();
        int total = 0;
        while (true) {
            List<String[]> logs = new ArrayList<>();
            int[] chosen = new int[1];
            List<String> ids = db.inTransaction("delete old deliveries", c -> deleteBatch(c, cutoff, logs, chosen));
            Path folderOfLogs = logDirectory.get();
            org.buildhook.runner.exec.JobLogs here = folderOfLogs == null ? null
                    : new org.buildhook.runner.exec.JobLogs(folderOfLogs);
            for (String[] log : logs) {
                Path file = org.buildhook.runner.exec.JobLogs.ofAttempt(here, log[1], Integer.parseInt(log[2]), log[0]);
                if (file == null) {
                    continue; // no log of its own here to delete (see JobLogs.ofAttempt)
                }
                deleteQuietly(file, problems);
                // A rewrite a stop left half-way (the attempt's outcome was recorded, so nothing removes it).
                deleteQuietly(org.buildhook.runner.exec.JobLogs.rewriteOf(file), problems);
                deleteQuietly(org.buildhook.runner.exec.JobLogs.notesOf(file), problems);
                // The attempt logs of a job are <log dir>/<job id>/attempt-N.log: once its last one is
                // gone, so goes its folder, or every job ever run would leave an empty one behind.
                Path folder = file.getParent();
                if (folder != null && folder.getFileName() != null && folder.getFileName().toString().equals(log[1])) {
                    deleteFolderIfEmpty(folder, problems);
                }
            }
            for (String id : ids) {
                deleteQuietly(payloadFile.apply(id), problems);
            }
            total += ids.size();
            // By what the batch chose, not what it deleted: on PostgreSQL a delivery that got a job while the
            // batch chose it is kept, and a full batch less that one is no sign that the old ones are all gone.
            if (chosen[0] < batch) {
                if (total > 0) {
                    LOG.info("retention removed {} deliveries older than {}", total,
                            org.buildhook.runner.rules.Durations.describe(maxAge));
                }
                return total;
            }
        }
    }

    /** Deletes one batch; returns the deliveries deleted, and how many it chose in {@code chosen[0]}. */
    private List<String> deleteBatch(Connection c, long cutoff, List<String[]> logs, int[] chosen) throws SQLException {
        List<String> ids = StoreReader.query(c, "SELECT id FROM deliveries d WHERE received_at < ? AND " + DONE
                + " ORDER BY id LIMIT " + batch + (db.dialect() == Dialect.POSTGRESQL ? " FOR UPDATE" : ""),
                List.of(cutoff), rs -> rs.getString(1));
        chosen[0] = ids.size();
        if (ids.isEmpty()) {
            return ids;
        }
        String in = "(" + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")";
        if (db.dialect() == Dialect.POSTGRESQL) {
            // Read committed: the SELECT above judged each delivery by what was committed when it began, and
            // a job added to it since (a re-run, a replay) would go with it by the deletes below, though whoever
            // added it was told its id. Now that the rows are locked no job can be added (inserting one locks
            // its delivery's row: the foreign key, DeliveryWriter.lockDelivery); each new statement sees what
            // was added before, so the deliveries are judged again. SQLite has one writer: nothing comes between.
            ids = StoreReader.query(c, "SELECT id FROM deliveries d WHERE id IN " + in + " AND " + DONE + " ORDER BY id",
                    ids, rs -> rs.getString(1));
            if (ids.isEmpty()) {
                return ids;
            }
            in = "(" + String.join(", ", Collections.nCopies(ids.size(), "?")) + ")";
        }
        logs.addAll(StoreReader.query(c, "SELECT a.log_path, a.job_id, a.attempt FROM job_attempts a JOIN jobs j ON a.job_id = j.id"
                + " WHERE a.log_path IS NOT NULL AND j.delivery_id IN " + in, ids,
                rs -> new String[] {rs.getString(1), rs.getString(2), Integer.toString(rs.getInt(3))}));
        execute(c, "DELETE FROM job_attempts WHERE job_id IN (SELECT id FROM jobs WHERE delivery_id IN " + in + ")", ids);
        // A key's newest build is remembered as long as that build's delivery is kept (see the class).
        execute(c, "DELETE FROM supersede_keys WHERE job_id IN (SELECT id FROM jobs WHERE delivery_id IN " + in + ")",
                ids);
        execute(c, "DELETE FROM resource_holds WHERE job_id IN (SELECT id FROM jobs WHERE delivery_id IN " + in + ")",
                ids);
        execute(c, "DELETE FROM jobs WHERE delivery_id IN " + in, ids);
        execute(c, "DELETE FROM admin_actions WHERE delivery_id IN " + in, ids);
        execute(c, "DELETE FROM dedup_keys WHERE delivery_id IN " + in, ids);
        execute(c, "DELETE FROM deliveries WHERE id IN " + in, ids);
        return ids;
    }

    private static void execute(Connection c, String sql, List<String> args) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                p.setString(i + 1, args.get(i));
            }
            p.executeUpdate();
        }
    }

    private static void deleteFolderIfEmpty(Path folder, FileProblems problems) {
        try {
            Files.deleteIfExists(folder);
        } catch (java.nio.file.DirectoryNotEmptyException e) {
            // Another attempt's log is still there (deleted by a later batch), or a file of someone else's.
        } catch (IOException e) {
            problems.add(e);
        }
    }

    private static void deleteQuietly(Path file, FileProblems problems) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            problems.add(e);
        }
    }
}
