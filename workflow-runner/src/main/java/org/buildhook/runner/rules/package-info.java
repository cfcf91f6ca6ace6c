/**
 * The rules file: loading and validating it ({@link org.buildhook.runner.rules.RuleSetLoader}, every
 * mistake reported at once as a {@link org.buildhook.runner.rules.RuleException}), matching events to
 * rules ({@link org.buildhook.runner.rules.RuleSet#match}), explaining a match
 * ({@link org.buildhook.runner.rules.RuleSet#explain}, {@link org.buildhook.runner.rules.DryRunRenderer})
 * and keeping the rules in step with the file ({@link org.buildhook.runner.rules.RulesWatcher}).
 *
 * <p>Payload values reach a job only as whole argv elements and environment values: placeholders
 * are found when the file is loaded and each expands to exactly one string, never split or re-read.
 */
package org.buildhook.runner.rules;
