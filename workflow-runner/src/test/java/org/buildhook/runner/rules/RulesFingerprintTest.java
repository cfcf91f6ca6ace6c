package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * The fingerprint nodes compare to tell that they run different rules (tryout17 F4): what a reload
 * counts as a change changes it, what it does not (comments, layout, key order, a disabled rule) does not.
 */
class RulesFingerprintTest {

    private static final String RULES = "rules:\n  - name: deploy\n    when: {status: [PASSED]}\n"
            + "    run: {command: [/opt/deploy.sh, '${build.id}'], concurrency: 1}\n";

    @Test
    void commentsLayoutAndKeyOrderDoNotChangeIt() {
        RulesFingerprint plain = of(RULES);

        assertThat(of("# deployed by ansible\n" + RULES + "\n# end\n")).isEqualTo(plain);
        assertThat(of("rules:\n- name: deploy\n  run:\n    concurrency: 1\n    command:\n      - /opt/deploy.sh\n"
                + "      - '${build.id}'\n  when:\n    status: [PASSED]\n")).isEqualTo(plain);
        assertThat(of(RULES + "  - name: off\n    enabled: false\n    run: {command: [/bin/true]}\n")).isEqualTo(plain);
        assertThat(plain.hex()).hasSize(64);
        assertThat(plain.shortForm()).hasSize(12).isEqualTo(plain.toString());
    }

    @Test
    void aChangedLimitCommandRuleOrderOrResourceChangesIt() {
        RulesFingerprint plain = of(RULES);

        assertThat(of(RULES.replace("concurrency: 1", "concurrency: 2"))).isNotEqualTo(plain);
        assertThat(of(RULES.replace("deploy.sh", "deploy2.sh"))).isNotEqualTo(plain);
        String two = RULES + "  - name: notify\n    run: {command: [/bin/true]}\n";
        assertThat(of(two)).isNotEqualTo(plain);
        assertThat(of("rules:\n  - name: notify\n    run: {command: [/bin/true]}\n" + RULES.substring("rules:\n".length())))
                .isNotEqualTo(of(two));
        assertThat(of("resources: {board: 2}\n" + RULES)).isNotEqualTo(plain)
                .isNotEqualTo(of("resources: {board: 3}\n" + RULES));
    }

    @Test
    void onlySixtyFourLowercaseHexDigitsAreAFingerprint() {
        assertThatThrownBy(() -> new RulesFingerprint("ABC")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("64 lowercase hex digits");
        assertThatThrownBy(() -> new RulesFingerprint("A".repeat(64))).isInstanceOf(IllegalArgumentException.class);
    }

    private static RulesFingerprint of(String text) {
        return RulesFingerprint.of(new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"), text));
    }
}
