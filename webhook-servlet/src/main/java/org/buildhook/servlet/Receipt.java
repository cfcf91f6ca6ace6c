package org.buildhook.servlet;

import java.util.List;
import java.util.Objects;

/**
 * What became of one delivery, before it is turned into an HTTP answer.
 *
 * @param kind       the outcome
 * @param deliveryId the stored delivery (accepted, duplicate: the first one; invalid: the rejected one), else null
 * @param jobIds     the jobs created (accepted only)
 * @param detail     for the log or, for {@link Kind#INVALID}, for the client: what was wrong
 */
public record Receipt(Kind kind, String deliveryId, List<String> jobIds, String detail) {

    /** The outcomes, each with its HTTP answer in the contract. */
    public enum Kind {
        /** 202: stored with its jobs. */
        ACCEPTED,
        /** 200: the same body was stored before; nothing new. */
        DUPLICATE,
        /** 404: no such endpoint. */
        UNKNOWN_ENDPOINT,
        /** 401: signature missing, malformed or wrong; the reason is only logged. */
        UNAUTHORIZED,
        /** 400: signed, but not a JobServ build event; kept as rejected. */
        INVALID,
        /** 503: the store cannot be reached; the sender should retry. */
        UNAVAILABLE
    }

    public Receipt {
        Objects.requireNonNull(kind, "kind");
        jobIds = jobIds == null ? List.of() : List.copyOf(jobIds);
    }

    static Receipt of(Kind kind, String detail) {
        return new Receipt(kind, null, List.of(), detail);
    }
}
