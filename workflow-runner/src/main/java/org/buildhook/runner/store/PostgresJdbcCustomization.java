package org.buildhook.runner.store;

import com.github.kagkarlsson.scheduler.jdbc.JdbcTaskRepositoryContext;
import com.github.kagkarlsson.scheduler.jdbc.PostgreSqlJdbcCustomization;
import com.github.kagkarlsson.scheduler.task.Execution;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * db-scheduler's PostgreSQL customization (one statement picks what is due: {@code FOR UPDATE SKIP LOCKED}), whose
 * picks that meet a store outage (no connection within {@code store.connect-timeout}, one cut or refused: {@link
 * StoreUnavailableException#isOutage}) pick nothing and say so once ({@link PickOutage}), as on SQLite, instead of
 * db-scheduler's {@code ERROR} with a stack trace at every poll (tryout25 F7). Any other failure is db-scheduler's to
 * log, as before.
 */
final class PostgresJdbcCustomization extends PostgreSqlJdbcCustomization {

    private static final Logger LOG = LoggerFactory.getLogger(PostgresJdbcCustomization.class);

    private final PickOutage outage = new PickOutage(LOG);
    /** The store, whose words say what failed ({@link Database#translate}). */
    private final Database db;

    PostgresJdbcCustomization(Database db) {
        super(false, true);
        this.db = db;
    }

    @Override
    public List<Execution> lockAndFetchSingleStatement(JdbcTaskRepositoryContext ctx, Instant now, int limit,
            boolean orderByPriority) {
        List<Execution> picked;
        try {
            picked = super.lockAndFetchSingleStatement(ctx, now, limit, orderByPriority);
        } catch (RuntimeException e) {
            // db-scheduler's JDBC runner wraps the driver's or the pool's SQLException in its own unchecked one.
            SQLException failure = StoreUnavailableException.firstInChain(e, s -> s);
            if (failure == null || !StoreUnavailableException.isOutage(failure)) {
                throw e;
            }
            outage.failed(db.translate("pick due jobs", failure, false).getMessage());
            return List.of();
        }
        outage.worked();
        return picked;
    }
}
