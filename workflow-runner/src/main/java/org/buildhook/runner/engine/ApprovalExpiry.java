package org.buildhook.runner.engine;

import java.util.List;
import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends the jobs whose approval was not given in time ({@code approval.expires} of their rule), run
 * every polling interval on every node: the expiry is a conditional update in the store, so each job
 * expires once whichever node looks, and one left by a stopped node expires when any node runs.
 */
final class ApprovalExpiry implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(ApprovalExpiry.class);

    private final Store store;

    ApprovalExpiry(Store store) {
        this.store = store;
    }

    @Override
    public void run() {
        try {
            List<String> expired = store.expireApprovals();
            if (!expired.isEmpty()) {
                LOG.info("jobs {} expired: nobody approved or rejected them in time", expired);
            }
        } catch (RuntimeException e) {
            LOG.debug("looking for expired approvals failed; next time: {}", e.toString());
        }
    }
}
