package org.buildhook.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whatever bytes arrive, the parser either returns an event or throws {@link InvalidEventException}:
 * never another exception, a stack overflow or an out-of-memory. One seed per case (in its name).
 */
class ParserRobustnessTest {

    private static final List<String> FIELDS = List.of("build_id", "url", "status", "runs", "web_url", "name",
            "trigger_name", "created", "completed", "log_url", "host_tag", "tests", "x", "");
    private static final byte[] SEED_BODY = Fixtures.bytes("build-67-passed.json");
    private static final byte[] ODD_BYTES = "{}[]\",:\\0-9eE.+ntfu\u00e9\u30e9".getBytes(UTF_8);

    private final BuildEventParser parser = new BuildEventParser();

    static LongStream seeds() {
        return new SplittableRandom(4_15L).longs(500);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomJsonGivesAnEventOrItsOwnException(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        StringBuilder json = new StringBuilder();
        randomValue(random, json, 0, true);
        assertParsesOrRejects(json.toString().getBytes(UTF_8), seed);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void mutatedRealBodiesGiveAnEventOrItsOwnException(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] body = SEED_BODY.clone();
        int mutations = 1 + random.nextInt(5);
        for (int m = 0; m < mutations; m++) {
            int at = random.nextInt(body.length);
            switch (random.nextInt(4)) {
                case 0: body[at] = (byte) random.nextInt(256); break;
                case 1: body[at] = ODD_BYTES[random.nextInt(ODD_BYTES.length)]; break;
                case 2: body = java.util.Arrays.copyOf(body, at); break;
                default:
                    byte[] longer = new byte[body.length + 1];
                    System.arraycopy(body, 0, longer, 0, at);
                    longer[at] = ODD_BYTES[random.nextInt(ODD_BYTES.length)];
                    System.arraycopy(body, at, longer, at + 1, body.length - at);
                    body = longer;
                    break;
            }
            if (body.length == 0) {
                break;
            }
        }
        assertParsesOrRejects(body, seed);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void randomBytesGiveItsOwnException(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        byte[] body = new byte[random.nextInt(0, 512)];
        for (int i = 0; i < body.length; i++) {
            body[i] = (byte) random.nextInt(256);
        }
        assertParsesOrRejects(body, seed);
    }

    private void assertParsesOrRejects(byte[] body, long seed) {
        try {
            BuildEvent event = parser.parse(body);
            assertThat(event.buildId()).isPositive();
        } catch (InvalidEventException expected) {
            assertThat(expected.getMessage()).as("seed %d", seed).startsWith("$").contains(": ");
        } catch (Throwable unexpected) {
            throw new AssertionError("seed " + seed + " made the parser throw " + unexpected
                    + " for: " + new String(body, UTF_8), unexpected);
        }
    }

    /** Mostly event-shaped JSON with the known field names and values of every type, at times too deep. */
    private static void randomValue(SplittableRandom random, StringBuilder json, int depth, boolean eventLike) {
        int kind = eventLike ? 0 : random.nextInt(depth > 40 ? 2 : 8) + (depth > 40 ? 6 : 0);
        switch (kind) {
            case 0: case 1:
                json.append('{');
                int fields = random.nextInt(eventLike ? 12 : 4);
                for (int i = 0; i < fields; i++) {
                    if (i > 0) {
                        json.append(", ");
                    }
                    json.append('"').append(FIELDS.get(random.nextInt(FIELDS.size()))).append("\": ");
                    randomValue(random, json, depth + 1, false);
                }
                json.append('}');
                break;
            case 2: case 3:
                json.append('[');
                int items = random.nextInt(4);
                for (int i = 0; i < items; i++) {
                    if (i > 0) {
                        json.append(", ");
                    }
                    randomValue(random, json, depth + 1, random.nextInt(3) == 0);
                }
                json.append(']');
                break;
            case 4:
                json.append(random.nextBoolean() ? "2021-07-26T18:10:37+00:00" : "\"2021-07-26T18:10:37+00:00\"");
                break;
            case 5:
                json.append(List.of("\"PASSED\"", "\"\\u0000\"", "\"\\ud800\"", "\"caf\\u00e9\"", "\"\"").get(random.nextInt(5)));
                break;
            case 6:
                json.append(List.of("1", "-1", "0", "1.5e308", "1e999999", "9223372036854775808", "67", "-0.0")
                        .get(random.nextInt(8)));
                break;
            default:
                json.append(List.of("true", "false", "null").get(random.nextInt(3)));
                break;
        }
    }
}
