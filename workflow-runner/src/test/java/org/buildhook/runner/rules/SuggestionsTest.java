package org.buildhook.runner.rules;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** "Did you mean" for names typed from memory. */
class SuggestionsTest {

    /** tryout47b F12: a rule's name shortened and misspelt in {@code jobs --rule} is still recognised. */
    @Test
    void theNearestNameAlsoTakesWhatWasWrittenAsTheBeginningOfALongerName() {
        List<String> rules = List.of("deploy-test-fleet", "lab-test", "archive-release");
        assertThat(Suggestions.closest("deploy-tst", rules)).isEmpty();
        assertThat(Suggestions.nearest("deploy-tst", rules)).contains("deploy-test-fleet");
        assertThat(Suggestions.nearest("lab-tset", rules)).contains("lab-test");
        assertThat(Suggestions.nearest("archive", rules)).contains("archive-release");
        assertThat(Suggestions.nearest("zzz", rules)).isEmpty();
        assertThat(Suggestions.nearest("d", rules)).as("a letter is no name").isEmpty();
        assertThat(Suggestions.nearest("x", List.of())).isEmpty();
    }
}
