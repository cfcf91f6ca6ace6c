package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.spy;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.core.Signer;
import org.buildhook.runner.PlannedJob;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.rules.RuleSetLoader;
import org.buildhook.runner.store.DeliveryOutcome;
import org.buildhook.runner.store.DeliveryQuery;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.buildhook.runner.store.StoreUnavailableException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The receiving pipeline against a real SQLite store and real rules; no HTTP. */
class DeliveryServiceTest {

    static final Path FIXTURES = Path.of(System.getProperty("buildhook.fixtures"));
    static final String SECRET = "UseSomethingGoodHere";

    @TempDir
    Path dir;
    Store store;
    DeliveryService service;

    @BeforeEach
    void open() {
        store = Store.open(StoreConfig.sqlite(dir).withRetention(StoreConfig.DEFAULT_RETENTION, Duration.ZERO));
        service = service(store);
    }

    DeliveryService service(Store s) {
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: each-build-run",
                "    when: {runs: {match: each, name: \"build-*\"}}",
                "    run: {command: [/bin/true, \"${run.name}\"]}",
                ""));
        return new DeliveryService(Map.of("default", SignatureVerifier.of(Secret.of(SECRET))), new BuildEventParser(),
                () -> rules, s, Clock.systemUTC());
    }

    @AfterEach
    void close() {
        store.close();
    }

    static IncomingDelivery signed(byte[] body, String endpoint) {
        return new IncomingDelivery(endpoint, body, List.of(Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8))),
                Map.of("content-type", "application/json"), "192.0.2.7");
    }

    static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(FIXTURES.resolve(name));
    }

    /** The messages {@link DeliveryService} logs while {@code action} runs. */
    static List<String> logOf(IOAction action) throws IOException {
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> log =
                new ch.qos.logback.core.read.ListAppender<>();
        log.start();
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                DeliveryService.class);
        logger.addAppender(log);
        try {
            action.run();
        } finally {
            logger.detachAppender(log);
        }
        return log.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
    }

    interface IOAction {
        void run() throws IOException;
    }

    @Test
    void aBuildWhoseUrlNamesNoProjectIsLoggedSayingSoNotAsABlank() throws IOException {
        byte[] body = new String(fixture("build-67-passed.json"), StandardCharsets.UTF_8)
                .replace("\"url\": \"https://api.foundries.io/projects/andy-corp/lmp/builds/67/\"",
                        "\"url\": \"https://example.com/x\"").getBytes(StandardCharsets.UTF_8);

        List<String> log = logOf(() -> assertThat(service.receive(signed(body, "default")).kind())
                .isEqualTo(Receipt.Kind.ACCEPTED));

        assertThat(log).anySatisfy(m -> assertThat(m).contains("accepted: build 67 PASSED of no project (its url"
                + " https://example.com/x has no /projects/<factory>/<project>/) (trigger containers-devel)"));
    }

    /**
     * escape29: a trigger name with a bidirectional control (RLO, U+202E) and a zero-width space showed in the
     * server's log as another name ("Trojan Source"); the log line shows them as escapes, as a control character.
     */
    @Test
    void theAcceptedLineShowsBidirectionalAndZeroWidthCharactersOfAPayloadValueAsEscapes() throws IOException {
        byte[] body = new String(fixture("build-67-passed.json"), StandardCharsets.UTF_8)
                .replace("\"trigger_name\": \"containers-devel\"",
                        "\"trigger_name\": \"containers-\\u202elaunch\\u202c\\u200b\\u2066x\\u2069\\u001b\"")
                .getBytes(StandardCharsets.UTF_8);

        List<String> log = logOf(() -> assertThat(service.receive(signed(body, "default")).kind())
                .isEqualTo(Receipt.Kind.ACCEPTED));

        assertThat(log).anySatisfy(m -> assertThat(m)
                .contains("accepted: build 67 PASSED of andy-corp/lmp (trigger containers-\\u202elaunch\\u202c\\u200b"
                        + "\\u2066x\\u2069\\x1b)"));
        assertThat(String.join("\n", log)).doesNotContain("\u202e").doesNotContain("\u200b").doesNotContain("\u2066");
    }

    /**
     * docs/signatures.md's rotation: "the log says which one (by its position, secret #0, secret #1 ...)", and its
     * last step removes the old secret "when the log shows only the new secret matching". tryout26 F2: no line said it.
     */
    @Test
    void withSeveralSecretsTheAcceptedAndDuplicateLinesSayWhichOneMatchedByPositionNeverItsValue() throws IOException {
        String newSecret = "TheNewSecretOfTheRotation";
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"), "rules: []\n");
        DeliveryService rotating = new DeliveryService(Map.of("default", SignatureVerifier.of(Secret.of(newSecret),
                Secret.of(SECRET))), new BuildEventParser(), () -> rules, store, Clock.systemUTC());
        byte[] old67 = fixture("build-67-passed.json");
        byte[] new68 = fixture("build-68-failed.json");

        List<String> log = logOf(() -> {
            assertThat(rotating.receive(signed(old67, "default")).kind()).isEqualTo(Receipt.Kind.ACCEPTED);
            assertThat(rotating.receive(new IncomingDelivery("default", new68, List.of(Signer.sign(new68,
                    newSecret.getBytes(StandardCharsets.UTF_8))), Map.of(), "192.0.2.7")).kind())
                    .isEqualTo(Receipt.Kind.ACCEPTED);
            assertThat(rotating.receive(signed(old67, "default")).kind()).isEqualTo(Receipt.Kind.DUPLICATE);
        });

        assertThat(log).filteredOn(m -> m.contains("build 67")).hasSize(2)
                .allSatisfy(m -> assertThat(m).endsWith("; signed with secret #1"));
        assertThat(log).filteredOn(m -> m.contains("build 68")).singleElement()
                .satisfies(m -> assertThat(m).contains("accepted: build 68").endsWith("; signed with secret #0"));
        assertThat(String.join("\n", log)).doesNotContain(SECRET).doesNotContain(newSecret);
    }

    @Test
    void withOneSecretTheAcceptedLineSaysNothingOfIt() throws IOException {
        List<String> log = logOf(() -> service.receive(signed(fixture("build-67-passed.json"), "default")));

        assertThat(log).anySatisfy(m -> assertThat(m).contains("accepted: build 67"))
                .noneSatisfy(m -> assertThat(m).contains("secret"));
    }

    @Test
    void acceptsASignedBuildAndStoresItWithTheJobsOfEveryMatchingRule() throws IOException {
        Receipt receipt = service.receive(signed(fixture("build-67-passed.json"), "default"));

        assertThat(receipt.kind()).isEqualTo(Receipt.Kind.ACCEPTED);
        assertThat(receipt.jobIds()).hasSize(3);
        var stored = store.delivery(receipt.deliveryId()).orElseThrow();
        assertThat(stored.delivery().outcome()).isEqualTo(DeliveryOutcome.ACCEPTED);
        assertThat(stored.delivery().remoteAddress()).isEqualTo("192.0.2.7");
        assertThat(stored.delivery().body()).isEqualTo(fixture("build-67-passed.json"));
        assertThat(stored.jobs()).hasSize(3);
    }

    @Test
    void theSameBodyAgainIsADuplicateOfTheFirstDeliveryAndCreatesNoJobs() throws IOException {
        Receipt first = service.receive(signed(fixture("build-68-failed.json"), "default"));
        Receipt again = service.receive(signed(fixture("build-68-failed.json"), "default"));

        assertThat(again.kind()).isEqualTo(Receipt.Kind.DUPLICATE);
        assertThat(again.deliveryId()).isEqualTo(first.deliveryId());
        assertThat(again.jobIds()).isEmpty();
        assertThat(store.jobs(new org.buildhook.runner.store.JobQuery(null, null, null, null, 100)).items())
                .hasSize(first.jobIds().size());
    }

    @Test
    void aWronglySignedBodyIsNeitherParsedNorStored() throws IOException {
        byte[] body = fixture("build-67-passed.json");
        IncomingDelivery forged = new IncomingDelivery("default", body,
                List.of(Signer.sign(body, "another-secret".getBytes(StandardCharsets.UTF_8))), Map.of(), "192.0.2.7");

        Receipt receipt = service.receive(forged);

        assertThat(receipt.kind()).isEqualTo(Receipt.Kind.UNAUTHORIZED);
        assertThat(receipt.detail()).doesNotContain(SECRET);
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).isEmpty();
    }

    @Test
    void aMissingSignatureIsUnauthorized() throws IOException {
        Receipt receipt = service.receive(new IncomingDelivery("default", fixture("build-67-passed.json"), List.of(),
                Map.of(), "192.0.2.7"));

        assertThat(receipt.kind()).isEqualTo(Receipt.Kind.UNAUTHORIZED);
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).isEmpty();
    }

    @Test
    void aSignedBodyThatIsNotABuildEventIsKeptAsRejectedWithTheReason() {
        byte[] body = "{\"build_id\": \"sixty-seven\"}".getBytes(StandardCharsets.UTF_8);

        Receipt receipt = service.receive(signed(body, "default"));

        assertThat(receipt.kind()).isEqualTo(Receipt.Kind.INVALID);
        assertThat(receipt.detail()).contains("$.build_id");
        var stored = store.delivery(receipt.deliveryId()).orElseThrow().delivery();
        assertThat(stored.outcome()).isEqualTo(DeliveryOutcome.REJECTED);
        assertThat(stored.reason()).contains("$.build_id");
        assertThat(store.delivery(receipt.deliveryId()).orElseThrow().jobs()).isEmpty();
    }

    @Test
    void anUnknownEndpointIsRefusedBeforeAnythingElse() throws IOException {
        Receipt receipt = service.receive(signed(fixture("build-67-passed.json"), "nope"));

        assertThat(receipt.kind()).isEqualTo(Receipt.Kind.UNKNOWN_ENDPOINT);
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).isEmpty();
    }

    @Test
    void anUnreachableStoreIsReportedSoTheSenderRetries() throws IOException {
        Store failing = spy(store);
        doThrow(new StoreUnavailableException("connection refused", null)).when(failing).accept(any(), any(), anyList());

        Receipt receipt = service(failing).receive(signed(fixture("build-67-passed.json"), "default"));

        assertThat(receipt.kind()).isEqualTo(Receipt.Kind.UNAVAILABLE);
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).isEmpty();
    }

    /**
     * tryout50 F8: a delivery whose statement was sent and committed, its answer then lost (a PostgreSQL crash, {@code
     * pg_ctl stop -m immediate}: the connection broke during the commit; one injected failure here, after the real
     * accept), was answered 503 and logged "not stored … re-send this build", and listed in "Builds to re-send", though
     * it was stored and its job ran. Its outcome unknown, it now says it may be stored all the same, and the list drops
     * it once the store shows it stored. A failure before the statement (no connection) still says "not stored", and
     * its build stays listed.
     */
    @Test
    void aDeliveryWhoseCommitsAnswerWasLostIsNotSaidNotStoredAndLeavesTheListOnceFoundStored() throws IOException {
        Store lost = spy(store);
        org.mockito.Mockito.doAnswer(call -> {
            call.callRealMethod();
            throw new StoreUnavailableException("store unavailable while trying to accept a delivery: An I/O error"
                    + " occurred while sending to the backend.", null, true);
        }).when(lost).accept(any(), any(), anyList());
        DeliveryService service = service(lost);

        List<String> log = logOf(() -> assertThat(service.receive(signed(fixture("build-67-passed.json"), "default"))
                .kind()).isEqualTo(Receipt.Kind.UNAVAILABLE));

        assertThat(log).singleElement().satisfies(line -> assertThat(line).contains("build 67",
                "not answered by the store (its connection broke after the delivery was sent), answering 503",
                "it may be stored all the same", "answered as a duplicate and starts nothing")
                .doesNotContain("not stored"));
        assertThat(store.deliveries(DeliveryQuery.latest(10)).items()).as("stored after all").hasSize(1);
        assertThat(service.refusedBuilds().view().builds()).hasSize(1);
        service.settleRefusedBuilds();
        assertThat(service.refusedBuilds().view().builds()).as("stored: not to re-send").isEmpty();

        // Not sent at all: not stored, and listed to re-send, also after a look.
        Store refused = spy(store);
        doThrow(new StoreUnavailableException("connection refused", null)).when(refused).accept(any(), any(), anyList());
        DeliveryService before = service(refused);
        List<String> notStored = logOf(() -> before.receive(signed(fixture("build-68-failed.json"), "default")));
        assertThat(notStored).singleElement().satisfies(line -> assertThat(line).contains("build 68", "not stored"));
        before.settleRefusedBuilds();
        assertThat(before.refusedBuilds().view().builds()).extracting(RefusedBuilds.Build::buildId).containsExactly(68L);
    }

    /**
     * review50b R15: a store that answered none of many deliveries (each 503 of an unknown outcome) left each build
     * listed, and each status-page poll asked the store about every one of them, for as long as it stayed listed. Now
     * one call asks about at most {@link RefusedBuilds#LOOKS_AT_ONCE}, a second one at once about none of those.
     */
    @Test
    void settlingTheRefusedBuildsAsksTheStoreAboutAFewAtOnceAndNotAgainAtOnce() {
        Store counted = spy(store);
        SettableClock clock = new SettableClock("2026-12-06T20:00:00Z");
        RefusedBuilds refused = new RefusedBuilds(clock);
        for (int i = 0; i < 3 * RefusedBuilds.LOOKS_AT_ONCE; i++) {
            refused.refused("default", i, "andy-corp/lmp", "PASSED", "t", clock.instant().plusMillis(i));
        }
        RuleSet rules = new RuleSetLoader(Clock.systemUTC()).parse(Path.of("rules.yaml"), "rules: []\n");
        DeliveryService settling = new DeliveryService(Map.of("default", SignatureVerifier.of(Secret.of(SECRET))),
                new BuildEventParser(), () -> rules, counted, clock, BuildhookMetrics.create(Set.of("default"), false),
                RefusalLog.unfolded(), refused);

        settling.settleRefusedBuilds();
        verify(counted, times(RefusedBuilds.LOOKS_AT_ONCE)).deliveries(any());
        settling.settleRefusedBuilds();
        settling.settleRefusedBuilds();
        verify(counted, times(3 * RefusedBuilds.LOOKS_AT_ONCE)).deliveries(any());
        settling.settleRefusedBuilds();
        verify(counted, times(3 * RefusedBuilds.LOOKS_AT_ONCE)).deliveries(any());
        assertThat(refused.view().builds()).as("not stored: still to re-send").hasSize(3 * RefusedBuilds.LOOKS_AT_ONCE);
    }

    @Test
    void theAcceptedLineNamesEachRuleOnceInTheJobsOrderAsAListPrintsThem() {
        List<List<String>> cases = List.of(List.of(), List.of("build"), List.of("build", "build"),
                List.of("notify", "build", "notify", "deploy", "build"), List.of("a", "b", "c", "d", "e", "f"),
                List.of("x, y", "[z]", "x, y"));
        for (List<String> rules : cases) {
            List<PlannedJob> jobs = rules.stream().map(r -> new PlannedJob(r, "name: " + r, List.of("/bin/true"),
                    Map.of(), null, false, Duration.ofMinutes(1), 0, Duration.ofSeconds(1), 0, null)).toList();
            // What the line printed when it was built with a stream.
            String before = jobs.isEmpty() ? "" : " " + jobs.stream().map(PlannedJob::ruleName).distinct().toList();
            assertThat(DeliveryService.ruleNames(jobs)).as(rules.toString()).isEqualTo(before);
        }
    }
}
