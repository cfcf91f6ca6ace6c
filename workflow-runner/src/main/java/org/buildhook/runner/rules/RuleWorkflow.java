package org.buildhook.runner.rules;

import java.time.Duration;
import org.buildhook.runner.JobWorkflow;

/**
 * A rule's {@code supersede} and {@code approval} as written.
 *
 * @param supersedeKey     the key template, or null when the rule supersedes nothing
 * @param supersedeRunning whether a newer build cancels a running job too ({@code running: cancel})
 * @param approvalExpiry   how long a job waits for an approval, or null when it needs none
 */
record RuleWorkflow(Template supersedeKey, boolean supersedeRunning, Duration approvalExpiry) {

    static final RuleWorkflow NONE = new RuleWorkflow(null, false, null);

    /** The rendered workflow parts of a job planned for {@code subject} (resources and follow-ups come from the action). */
    JobWorkflow render(JobSubject subject) {
        return new JobWorkflow(subject.event().buildId(),
                supersedeKey == null ? null : supersedeKey.render(subject), supersedeRunning, approvalExpiry,
                java.util.Map.of(), java.util.Map.of(), null, null, 0);
    }
}
