package org.buildhook.core;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class BuildEventParserTest {

    private static final List<String> BODIES = Fixtures.BODIES;

    private final BuildEventParser parser = new BuildEventParser();

    @ParameterizedTest
    @FieldSource("BODIES")
    void parsesEveryFixture(String file) {
        BuildEvent event = parser.parse(Fixtures.bytes(file));

        assertThat(event.buildId()).isPositive();
        assertThat(event.runs()).isNotEmpty();
        assertThat(event.project()).isNotEmpty();
    }

    @Test
    void readsEverythingOfAPassedBuild() {
        BuildEvent event = parser.parse(Fixtures.bytes("build-67-passed.json"));

        assertThat(event.buildId()).isEqualTo(67);
        assertThat(event.status().known()).isEqualTo(BuildStatus.Known.PASSED);
        assertThat(event.triggerName()).isEqualTo("containers-devel");
        assertThat(event.project()).isEqualTo("andy-corp/lmp");
        assertThat(event.factory()).isEqualTo("andy-corp");
        assertThat(event.url()).isEqualTo("https://api.foundries.io/projects/andy-corp/lmp/builds/67/");
        assertThat(event.webUrl()).isEqualTo("https://ci.foundries.io/projects/andy-corp/lmp/builds/67");
        assertThat(event.name()).isNull();
        assertThat(event.created()).isEqualTo(OffsetDateTime.of(2021, 7, 26, 18, 10, 33, 0, ZoneOffset.UTC));
        assertThat(event.completed()).isEqualTo(OffsetDateTime.of(2021, 7, 26, 18, 19, 24, 0, ZoneOffset.UTC));
        assertThat(event.unknownFields()).isEmpty();
        assertThat(event.runs()).extracting(Run::name)
                .containsExactly("build-amd64-partner", "build-armhf", "build-aarch64", "publish-compose-apps");
        assertThat(event.runs()).extracting(Run::hostTag)
                .containsExactly("amd64-partner", "armhf", "aarch64", "amd64-partner");
        assertThat(event.runs()).allSatisfy(run -> assertThat(run.status().is(BuildStatus.Known.PASSED)).isTrue());

        Run publish = event.runs().get(3);
        assertThat(publish.tests()).isNull();
        assertThat(publish.testsIfPresent()).isEmpty();
        assertThat(publish.logUrl())
                .isEqualTo("https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/publish-compose-apps/console.log");
        assertThat(event.runs().get(0).tests())
                .isEqualTo("https://api.foundries.io/projects/andy-corp/lmp/builds/67/runs/build-amd64-partner/tests/");
    }

    @Test
    void keepsNonAsciiNamesAndUnknownFieldsOfAnUnusualBuild() {
        BuildEvent event = parser.parse(Fixtures.bytes("build-7-unusual.json"));

        assertThat(event.buildId()).isEqualTo(7);
        assertThat(event.status().known()).isEqualTo(BuildStatus.Known.FAILED);
        assertThat(event.project()).isEqualTo("z\u00fcrich/lmp");
        assertThat(event.factory()).isEqualTo("z\u00fcrich");
        assertThat(event.unknownFields()).containsOnlyKeys("annotation");
        assertThat(event.unknownFields().get("annotation").asText()).isEqualTo("extra field a receiver must ignore");
        assertThat(event.runs()).hasSize(1);
        Run run = event.runs().get(0);
        assertThat(run.name()).isEqualTo("t\u00ebst-\u00fcn\u00efcode-\u30e9\u30f3");
        assertThat(run.completed()).isNull();
        assertThat(run.completedIfPresent()).isEmpty();
        assertThat(run.hostTag()).isNull();
        assertThat(run.created()).isEqualTo(OffsetDateTime.of(2023, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
    }

    @Test
    void readsAPromotedBuildWithAName() {
        BuildEvent event = parser.parse(Fixtures.bytes("build-412-promoted.json"));

        assertThat(event.status().known()).isEqualTo(BuildStatus.Known.PROMOTED);
        assertThat(event.name()).isEqualTo("v95");
        assertThat(event.triggerName()).isNull();
        assertThat(event.project()).isEqualTo("acme/lmp");
    }

    @Test
    void parsesTheBuildWithFifteenHundredRuns() {
        BuildEvent event = parser.parse(Fixtures.bytes("build-9000-1500-runs.json"));

        assertThat(event.buildId()).isEqualTo(9000);
        assertThat(event.runs()).hasSize(1500);
        assertThat(event.runs().get(1499).name()).isEqualTo("test-shard-1499");
        assertThat(event.runs().stream().map(Run::name).collect(Collectors.toSet())).hasSize(1500);
    }

    @Test
    void keepsUnknownFieldsInTheirOrderWithTheirValues() {
        String body = "{\"zeta\": [1, {\"a\": null}], \"build_id\": 1, \"url\": \"https://x/projects/f/p/builds/1/\","
                + " \"alpha\": 2.5, \"status\": \"PASSED\", \"runs\": [{\"name\": \"r\", \"url\": \"u\", \"status\": \"S\","
                + " \"log_url\": \"l\", \"shard\": 3, \"extra\": null}], \"mid\": true}";

        BuildEvent event = parser.parse(body.getBytes(UTF_8));

        assertThat(event.unknownFields().keySet()).containsExactly("zeta", "alpha", "mid");
        assertThat(event.unknownFields().get("zeta").toString()).isEqualTo("[1,{\"a\":null}]");
        assertThat(event.unknownFields().get("alpha").asDouble()).isEqualTo(2.5);
        assertThat(event.runs().get(0).unknownFields().keySet()).containsExactly("shard", "extra");
        assertThat(event.runs().get(0).unknownFields().get("extra").isNull()).isTrue();
    }

    @Test
    void unknownFieldsCannotBeChangedThroughTheEvent() {
        BuildEvent event = parser.parse("{\"build_id\": 1, \"url\": \"u\", \"status\": \"PASSED\", \"runs\": [], \"x\": {\"a\": 1}}"
                .getBytes(UTF_8));

        ((ObjectNode) event.unknownFields().get("x")).put("a", 2);

        assertThat(event.unknownFields().get("x").get("a").asInt()).isEqualTo(1);
    }

    @Test
    void keepsAStatusItDoesNotKnowVerbatim() {
        BuildEvent event = parser.parse(("{\"build_id\": 1, \"url\": \"u\", \"status\": \"TIMED_OUT\", \"runs\": [],"
                + " \"created\": \"2024-05-05T05:05:05.123456+02:00\", \"completed\": null}")
                .getBytes(UTF_8));

        assertThat(event.status().value()).isEqualTo("TIMED_OUT");
        assertThat(event.status().known()).isEqualTo(BuildStatus.Known.UNKNOWN);
        assertThat(event.created().getNano()).isEqualTo(123_456_000);
        assertThat(event.created().getOffset()).isEqualTo(ZoneOffset.ofHours(2));
        assertThat(event.completed()).isNull();
        assertThat(event.project()).isEmpty();
    }

    @Test
    void isSafeToShareBetweenThreads() throws Exception {
        byte[] body = Fixtures.bytes("build-68-failed.json");
        BuildEvent expected = parser.parse(body);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Callable<BuildEvent>> parses = Collections.nCopies(200, () -> parser.parse(body));
            for (Future<BuildEvent> parsed : pool.invokeAll(parses)) {
                assertThat(parsed.get()).isEqualTo(expected);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
