package org.buildhook.runner.engine;

import org.buildhook.runner.store.Store;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Gives back a job's shared resources after its attempt. */
final class SharedResources {

    private static final Logger LOG = LoggerFactory.getLogger(SharedResources.class);

    private SharedResources() {
    }

    /**
     * Units left behind free themselves once the execution is no longer picked (see
     * {@link org.buildhook.runner.store.ResourceLedger}), so a failure here must not cost the job
     * its completion: it is logged, not thrown.
     */
    static void release(Store store, String jobId, String node) {
        try {
            store.resources().release(jobId, node);
        } catch (RuntimeException e) {
            LOG.warn("job {}: its shared resources are given back later, by the next look: {}", jobId, e.getMessage());
        }
    }
}
