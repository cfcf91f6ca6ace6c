package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a WAR that finds no configuration file may start on the embedded defaults. */
class BuildhookListenerTest {

    @Test
    void onlyWhenTheOperatorAskedForTheDefaults() {
        assertThat(BuildhookListener.defaultsAllowed(null, null, null)).isFalse();
        assertThat(BuildhookListener.defaultsAllowed("false", "", "no")).isFalse();
        assertThat(BuildhookListener.defaultsAllowed("true", null, null)).isTrue();
        assertThat(BuildhookListener.defaultsAllowed(null, " TRUE ", null)).isTrue();
        assertThat(BuildhookListener.defaultsAllowed(null, null, "true")).isTrue();
    }

    @Test
    void theRefusalSaysWhatToSetAndHowToOptIn() {
        assertThat(BuildhookListener.NO_CONFIGURATION).contains("buildhook.config", "BUILDHOOK_CONFIG", "setenv.sh",
                "buildhook.defaults=true");
    }
}
