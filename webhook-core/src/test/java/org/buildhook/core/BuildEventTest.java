package org.buildhook.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BuildEventTest {

    private static BuildEvent withUrl(String url) {
        return new BuildEvent(1, url, BuildStatus.of("PASSED"), List.of(), null, null, null, null, null, null);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', emptyValue = "", value = {
        "https://api.foundries.io/projects/andy-corp/lmp/builds/67/ | andy-corp/lmp | andy-corp",
        "https://api.foundries.io/projects/andy-corp/lmp/builds/67 | andy-corp/lmp | andy-corp",
        "https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/build-armhf/ | andy-corp/lmp | andy-corp",
        "https://api.foundries.io/api/projects/acme/lmp/builds/1/?x=/projects/a/b/builds/ | acme/lmp | acme",
        "https://api.foundries.io/projects/z\u00fcrich/lmp/builds/7/ | z\u00fcrich/lmp | z\u00fcrich",
        "https://api.foundries.io/projects/z%C3%BCrich/my%20lmp/builds/7/ | z\u00fcrich/my lmp | z\u00fcrich",
        "https://api.foundries.io/projects/evil%2Fcorp/lmp/builds/7/ | evil%2Fcorp/lmp | evil%2Fcorp",
        "https://api.foundries.io/projects/andy-corp/lmp/ | '' | ''",
        "https://api.foundries.io/projects//lmp/builds/1/ | '' | ''",
        "https://api.foundries.io/builds/1/ | '' | ''",
        "not a url at all | '' | ''",
        "https://api.foundries.io | '' | ''",
    })
    void derivesProjectAndFactoryFromTheBuildUrlPath(String url, String project, String factory) {
        BuildEvent event = withUrl(url);

        assertThat(event.project()).isEqualTo(project);
        assertThat(event.factory()).isEqualTo(factory);
    }

    @Test
    void refusesABuildIdThatIsNotPositive() {
        assertThatThrownBy(() -> new BuildEvent(0, "u", BuildStatus.of("PASSED"), List.of(), null, null, null, null, null, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("buildId");
    }

    @Test
    void statusKeepsUnknownValuesAndKnowsTheFinalOnes() {
        assertThat(BuildStatus.of("PASSED").isFinal()).isTrue();
        assertThat(BuildStatus.of("RUNNING").isFinal()).isFalse();
        assertThat(BuildStatus.of("NEW_STATE").known()).isEqualTo(BuildStatus.Known.UNKNOWN);
        assertThat(BuildStatus.of("NEW_STATE").value()).isEqualTo("NEW_STATE");
        assertThat(BuildStatus.of("passed").known()).isEqualTo(BuildStatus.Known.UNKNOWN);
        assertThat(BuildStatus.of("passed").equalsIgnoreCase("PASSED")).isTrue();
    }
}
