package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The answers' bytes are a contract: written without Jackson or with it, they are Jackson's. */
class JsonAnswerTest {

    private static final ObjectMapper JACKSON = new ObjectMapper();

    private static byte[] jackson(String message) throws Exception {
        return JACKSON.writeValueAsBytes(Map.of("error", message));
    }

    @Test
    void anErrorAnswerIsByteForByteWhatJacksonWritesForEveryCharacterAndMixOfThem() throws Exception {
        List<String> messages = new ArrayList<>(List.of("", "no endpoint named 'nope'", "signature missing or invalid",
                "no such endpoint; POST to /webhook or /webhook/{endpoint}", "a \"quoted\" word", "back\\slash",
                "tab\there", "line\nbreak", "zürich", "emoji \uD83D\uDE00", "lone \uD800 surrogate", "del \u007f",
                "nul \u0000", "</script>"));
        for (char c = 0; c < 0x300; c++) {
            messages.add("x" + c + "y");
        }
        Random random = new Random(17);
        for (int i = 0; i < 2_000; i++) {
            char[] chars = new char[random.nextInt(40)];
            for (int j = 0; j < chars.length; j++) {
                chars[j] = (char) (random.nextInt(10) == 0 ? random.nextInt(0x800) : 0x20 + random.nextInt(0x5f));
            }
            messages.add(new String(chars));
        }
        for (String message : messages) {
            assertThat(JsonAnswer.error(message).bytes()).as(message).isEqualTo(jackson(message));
        }
    }

    @Test
    void answersWithMoreThanAnErrorAreJacksons() throws Exception {
        assertThat(new String(JsonAnswer.error("not a JobServ build event: $.x").with("delivery", "01ABC").bytes(),
                StandardCharsets.UTF_8)).isEqualTo("{\"error\":\"not a JobServ build event: $.x\",\"delivery\":\"01ABC\"}");
        assertThat(new String(new JsonAnswer().with("delivery", "01ABC").with("jobs", List.of("01J1", "01J2"))
                .with("duplicate", false).bytes(), StandardCharsets.UTF_8))
                .isEqualTo("{\"delivery\":\"01ABC\",\"jobs\":[\"01J1\",\"01J2\"],\"duplicate\":false}");
    }
}
