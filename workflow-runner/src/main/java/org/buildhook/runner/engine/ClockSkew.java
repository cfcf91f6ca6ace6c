package org.buildhook.runner.engine;

import java.time.Duration;
import org.buildhook.runner.rules.Durations;
import org.buildhook.runner.store.NodeLeases;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says when this host's clock differs from the database's by more than a quarter of the dead-node limit (PostgreSQL).
 * db-scheduler stamps a job's heartbeats with the clock of the host that runs it and finds it dead by the clock of the
 * host that looks; a node takes another's job over only once that node is silent by the database's clock too ({@link
 * OwnExecutionsKept}), but a clock far off still delays the takeover of a dead node's jobs by as much, makes jobs due
 * earlier or later here than elsewhere, and takes from the margin of the stale-pick release on this host (review57b
 * F1): the operator is told with the figure, at the start and whenever it is seen at a renewal (once until it is back
 * within the bound, or changes by more than the bound again).
 */
final class ClockSkew {

    private static final Logger LOG = LoggerFactory.getLogger(ClockSkew.class);

    private final String node;
    private final Duration limit;
    /** The difference last said at WARN, or null while within the bound; on the renewals' thread (and the start). */
    private Duration said;

    ClockSkew(String node, Duration limit) {
        this.node = node;
        this.limit = limit;
    }

    /** A quarter of the dead-node limit: how far this host's clock may be from the database's before it is said. */
    static Duration bound(Duration limit) {
        return limit.dividedBy(4);
    }

    /** {@code 3.2s ahead of}, {@code 3.2s behind}, for "this host's clock is … the database's". */
    static String describe(Duration ahead) {
        if (ahead.isZero()) {
            return "the same as";
        }
        return ahead.isNegative() ? Durations.describe(ahead.negated()) + " behind"
                : Durations.describe(ahead) + " ahead of";
    }

    /**
     * Says {@code offset} if it is beyond the bound: at the start ({@code atStart}) always, at a renewal when first seen
     * beyond it or changed by more than the bound since last said; once back within it, says so at INFO.
     */
    void seen(NodeLeases.ClockOffset offset, boolean atStart) {
        Duration bound = bound(limit);
        // Within the bound once the figure's own error (half the round trip it was read in) is taken off.
        Duration beyond = offset.ahead().abs().minus(offset.within());
        if (beyond.compareTo(bound) <= 0) {
            if (said != null && offset.ahead().abs().compareTo(bound) <= 0) {
                said = null;
                LOG.info("node {}: this host's clock is {} the database's now (within {} of it): back in step",
                        node, describe(offset.ahead()), Durations.describe(bound));
            }
            return;
        }
        if (!atStart && said != null && offset.ahead().minus(said).abs().compareTo(bound) <= 0) {
            return;
        }
        said = offset.ahead();
        LOG.warn("node {}: this host's clock is {} the database's (more than {}, a quarter of the dead-node limit {}):"
                + " a node takes another's job over only once that node is silent by the database's clock, but a clock"
                + " this far off delays the takeover of a dead node's jobs by as much, starts a job due later (a retry's"
                + " delay) early or late here, and narrows the margin of the stale-pick release; synchronise this host's clock"
                + " (NTP: chronyd or systemd-timesyncd; 'chronyc tracking' or 'timedatectl' shows it), docs/deploying.md"
                + " \"Clocks\"", node, describe(offset.ahead()), Durations.describe(bound), Durations.describe(limit));
    }
}
