package org.buildhook.core;

/**
 * The unchecked root of every exception webhook-core throws for bad input. Callers that only want
 * to know "this delivery cannot be used" catch this one type.
 */
public class WebhookException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public WebhookException(String message) {
        super(message);
    }

    public WebhookException(String message, Throwable cause) {
        super(message, cause);
    }
}
