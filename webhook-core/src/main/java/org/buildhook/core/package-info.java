/**
 * buildhook's webhook-core: proving a JobServ delivery is genuine and reading it.
 *
 * <p>The order matters: check the signature over the raw bytes first, parse only what passed.
 *
 * <pre>{@code
 * SignatureVerifier verifier = SignatureVerifier.of(List.of(Secret.of(current), Secret.of(next)));
 * BuildEventParser parser = new BuildEventParser();          // both shared by all request threads
 *
 * Verification check = verifier.verify(body, request.getHeader(SignatureVerifier.HEADER));
 * if (!check.valid()) {
 *     log.warn("delivery refused: {}", check.reason());      // 401, generic body
 *     return;
 * }
 * try {
 *     BuildEvent event = parser.parse(body);                  // event.project(), event.runs() ...
 * } catch (InvalidEventException e) {
 *     log.warn("signed delivery is not a build event: {}", e.getMessage());   // 400
 * }
 * }</pre>
 *
 * <p>{@link org.buildhook.core.WebhookException} is the root of everything thrown for bad input;
 * programming errors (null arguments, an empty secret) are the usual
 * {@code NullPointerException}/{@code IllegalArgumentException}.
 */
package org.buildhook.core;
