package org.buildhook.runner.store;

import java.util.List;
import java.util.Objects;

/** A delivery with its body and its jobs (env redacted). */
public record DeliveryDetail(Delivery delivery, List<Job> jobs) {

    public DeliveryDetail {
        Objects.requireNonNull(delivery, "delivery");
        jobs = List.copyOf(jobs);
    }
}
