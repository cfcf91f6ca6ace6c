package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
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
    void anAnswerOfStringsBooleansAndListsIsByteForByteWhatJacksonWritesForAnyContent() throws Exception {
        Random random = new Random(170);
        List<String> strings = new ArrayList<>(List.of("", "01JABCDEFGHJKMNPQRSTVWXYZ0", "a \"q\"", "b\\s", "t\tn\n",
                "zürich", "\uD83D\uDE00", "\uD800", "\u007f", "\u0000", "</x>"));
        for (char c = 0; c < 0x100; c++) {
            strings.add("id" + c);
        }
        for (int i = 0; i < 3_000; i++) {
            Map<String, Object> fields = new LinkedHashMap<>();
            JsonAnswer answer = new JsonAnswer();
            int n = random.nextInt(5);
            for (int j = 0; j < n; j++) {
                String key = random.nextInt(8) == 0 ? strings.get(random.nextInt(strings.size())) : "k" + j;
                Object value;
                switch (random.nextInt(4)) {
                    case 0:
                        value = random.nextBoolean();
                        break;
                    case 1:
                        List<String> items = new ArrayList<>();
                        for (int k = random.nextInt(4); k > 0; k--) {
                            items.add(strings.get(random.nextInt(strings.size())));
                        }
                        value = items;
                        break;
                    default:
                        value = random.nextInt(3) == 0 ? strings.get(random.nextInt(strings.size()))
                                : "01J" + Integer.toString(random.nextInt(1 << 30), 32).toUpperCase(Locale.ROOT);
                        break;
                }
                fields.put(key, value);
                answer.with(key, value);
            }
            assertThat(new String(answer.bytes(), StandardCharsets.UTF_8)).as(fields.toString())
                    .isEqualTo(new String(JACKSON.writeValueAsBytes(fields), StandardCharsets.UTF_8));
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
