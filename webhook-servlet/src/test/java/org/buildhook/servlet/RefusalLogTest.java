package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.buildhook.core.BuildEventParser;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.buildhook.core.Signer;
import org.buildhook.runner.rules.RuleSet;
import org.buildhook.runner.store.Store;
import org.buildhook.runner.store.StoreConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refused deliveries under a flood: the first of a kind logged at once and in full, the others of its
 * window in one summary when the window ends, none lost. Real verifier, real SQLite store, the log
 * read back from Logback; the window's end is driven by hand (the timer is the seam).
 */
class RefusalLogTest {

    private static final Pattern SUMMARY = Pattern.compile("\\.\\.\\. and (\\d+) more like it in [0-9.]+ s since \\S+: (.*)");

    @TempDir
    Path dir;
    private final SettableClock clock = new SettableClock("2026-11-30T04:00:00Z");
    /** The window ends the timer was asked for, run by the test. */
    private final List<Runnable> due = new ArrayList<>();
    private final ListAppender<ILoggingEvent> log = new ListAppender<>();
    private final ch.qos.logback.classic.Logger logger =
            (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(DeliveryService.class);
    private Store store;

    @BeforeEach
    void capture() {
        log.start();
        logger.addAppender(log);
        store = Store.open(StoreConfig.sqlite(dir));
    }

    @AfterEach
    void release() {
        logger.detachAppender(log);
        store.close();
    }

    private RefusalLog refusalLog() {
        return new RefusalLog(clock, RefusalLog.WINDOW, (task, after) -> {
            synchronized (due) {
                due.add(task);
            }
        }, () -> { });
    }

    private void windowsEnd() {
        clock.advance(RefusalLog.WINDOW);
        List<Runnable> tasks;
        synchronized (due) {
            tasks = List.copyOf(due);
            due.clear();
        }
        tasks.forEach(Runnable::run);
    }

    private DeliveryService service(RefusalLog refusals, BuildhookMetrics metrics) {
        return new DeliveryService(Map.of("default", SignatureVerifier.of(Secret.of("s3cret"))), new BuildEventParser(),
                () -> RuleSet.empty(Path.of("rules.yaml"), clock.instant()), store, clock, metrics, refusals);
    }

    private static IncomingDelivery wronglySigned(String remote) {
        byte[] body = "{\"build_id\": 1}".getBytes(StandardCharsets.UTF_8);
        return new IncomingDelivery("default", body, List.of(Signer.sign(body, "other".getBytes(StandardCharsets.UTF_8))),
                Map.of(), remote);
    }

    private static IncomingDelivery toUnknownEndpoint(String remote) {
        return new IncomingDelivery("nope", "{}".getBytes(StandardCharsets.UTF_8), List.of(), Map.of(), remote);
    }

    private List<String> lines() {
        synchronized (log) { // logback appends under the appender's lock
            return log.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        }
    }

    @Test
    void theFirstRefusalOfAKindIsLoggedAtOnceInFullAndTheRestOfItsWindowInOneSummaryWhenItEnds() {
        try (BuildhookMetrics metrics = BuildhookMetrics.create(java.util.Set.of("default"), false)) {
            DeliveryService service = service(refusalLog(), metrics);
            for (int i = 0; i < 5; i++) {
                assertThat(service.receive(wronglySigned("192.0.2." + (i % 2 + 1))).kind())
                        .isEqualTo(Receipt.Kind.UNAUTHORIZED);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(service.receive(toUnknownEndpoint("198.51.100.9")).kind())
                        .isEqualTo(Receipt.Kind.UNKNOWN_ENDPOINT);
            }

            // At once: the first of each kind, word for word as before folding.
            assertThat(lines()).containsExactly(
                    "delivery from 192.0.2.1 to endpoint 'default' refused: no configured secret matches X-JobServ-Sig"
                            + " (the sender uses another secret, or the body was changed after signing) (15 bytes)",
                    "delivery from 198.51.100.9 to unknown endpoint 'nope' refused (configured: [default])");
            // Every refusal is counted, folded or not.
            assertThat(metrics.scrape())
                    .contains("buildhook_signature_failures_total{endpoint=\"default\",reason=\"no_match\"} 5.0");
            assertThat(service.refusals().total()).isEqualTo(5);

            windowsEnd();

            assertThat(lines()).hasSize(4);
            assertThat(lines().subList(2, 4)).containsExactlyInAnyOrder(
                    "... and 4 more like it in 10.0 s since 2026-11-30T04:00:00Z: deliveries to endpoint 'default'"
                            + " refused: no configured secret matches X-JobServ-Sig (the sender uses another secret, or"
                            + " the body was changed after signing), from 192.0.2.2, 192.0.2.1",
                    "... and 2 more like it in 10.0 s since 2026-11-30T04:00:00Z: deliveries to unknown endpoint 'nope'"
                            + " refused, from 198.51.100.9");
            assertThat(copied()).allMatch(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN);
        }
    }

    @Test
    void aRefusalAfterItsKindsSummaryIsLoggedInFullAgainAndALoneOneHasNoSummary() {
        DeliveryService service = service(refusalLog(), BuildhookMetrics.create(java.util.Set.of("default"), false));
        service.receive(toUnknownEndpoint("198.51.100.9"));
        windowsEnd();
        assertThat(lines()).hasSize(1); // alone in its window: nothing to sum up

        service.receive(toUnknownEndpoint("198.51.100.7"));
        service.receive(toUnknownEndpoint("198.51.100.7"));
        windowsEnd();
        service.receive(toUnknownEndpoint("198.51.100.8"));

        assertThat(lines()).hasSize(4);
        assertThat(lines().get(1)).startsWith("delivery from 198.51.100.7 to unknown endpoint 'nope' refused");
        assertThat(lines().get(2)).startsWith("... and 1 more like it");
        assertThat(lines().get(3)).startsWith("delivery from 198.51.100.8 to unknown endpoint 'nope' refused");
    }

    @Test
    void theSummaryGivesTheWindowsStartToTheMillisecondAsTheLogLinesDo() {
        clock.advance(Duration.ofNanos(123_456_789));
        RefusalLog refusals = refusalLog();
        DeliveryService service = service(refusals, BuildhookMetrics.create(java.util.Set.of("default"), false));
        service.receive(toUnknownEndpoint("198.51.100.1"));
        service.receive(toUnknownEndpoint("198.51.100.2"));

        refusals.close();

        assertThat(lines().get(1)).startsWith("... and 1 more like it in 0.0 s since 2026-11-30T04:00:00.123Z: ");
    }

    @Test
    void closingWritesTheSummaryOfEveryOpenWindowAndLogsLaterRefusalsOneLineEach() {
        RefusalLog refusals = refusalLog();
        DeliveryService service = service(refusals, BuildhookMetrics.create(java.util.Set.of("default"), false));
        for (int i = 0; i < 3; i++) {
            service.receive(toUnknownEndpoint("198.51.100." + i));
        }
        clock.advance(Duration.ofMillis(2_500));

        refusals.close();

        assertThat(lines()).hasSize(2);
        assertThat(lines().get(1)).isEqualTo("... and 2 more like it in 2.5 s since 2026-11-30T04:00:00Z: deliveries to"
                + " unknown endpoint 'nope' refused, from 198.51.100.1, 198.51.100.2");
        service.receive(toUnknownEndpoint("198.51.100.3"));
        service.receive(toUnknownEndpoint("198.51.100.3"));
        assertThat(lines()).hasSize(4);
        assertThat(refusals.openKinds()).isZero();
    }

    @Test
    void aSummaryNamesAFewAddressesAndSaysWhenThereWereMore() {
        RefusalLog refusals = refusalLog();
        DeliveryService service = service(refusals, BuildhookMetrics.create(java.util.Set.of("default"), false));
        for (int i = 0; i < 10; i++) {
            service.receive(toUnknownEndpoint("203.0.113." + i));
        }
        windowsEnd();
        assertThat(lines().get(1)).endsWith("from 203.0.113.1, 203.0.113.2, 203.0.113.3, 203.0.113.4 and others");
    }

    @Test
    void beyondTheLimitOfKindsInTheirWindowEachRefusalIsLoggedInFull() {
        RefusalLog refusals = refusalLog();
        Logger target = LoggerFactory.getLogger(DeliveryService.class);
        AtomicLong full = new AtomicLong();
        for (int i = 0; i < RefusalLog.MAX_KINDS + 10; i++) {
            String kind = "kind " + i;
            refusals.refused(target, kind, "192.0.2.1", full::incrementAndGet);
            refusals.refused(target, kind, "192.0.2.1", full::incrementAndGet);
        }
        // Each kind within the limit: its first line; each beyond: both.
        assertThat(full.get()).isEqualTo(RefusalLog.MAX_KINDS + 2 * 10);
        assertThat(refusals.openKinds()).isEqualTo(RefusalLog.MAX_KINDS);
        windowsEnd();
        assertThat(lines()).hasSize(RefusalLog.MAX_KINDS);
        assertThat(refusals.openKinds()).isZero();
    }

    @Test
    void noRefusalIsLostWhileWindowsEndAndOpenUnderManyThreads() throws Exception {
        RefusalLog refusals = refusalLog();
        Logger target = LoggerFactory.getLogger(DeliveryService.class);
        AtomicLong full = new AtomicLong();
        int threads = 8;
        int each = 20_000;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> senders = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Thread sender = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    refusals.refused(target, "kind " + (i % 3), "192.0.2.1", full::incrementAndGet);
                }
            });
            sender.start();
            senders.add(sender);
        }
        go.countDown();
        while (senders.stream().anyMatch(Thread::isAlive)) {
            windowsEnd();
        }
        for (Thread sender : senders) {
            sender.join();
        }
        refusals.close();

        long summed = 0;
        for (String line : lines()) {
            Matcher m = SUMMARY.matcher(line);
            assertThat(m.matches()).as(line).isTrue();
            summed += Long.parseLong(m.group(1));
        }
        assertThat(full.get() + summed).isEqualTo((long) threads * each);
    }

    @Test
    void theTimerThreadOfAStartedLogWritesNothingBeforeItsWindowAndIsGoneAfterClose() {
        RefusalLog refusals = RefusalLog.start(clock);
        DeliveryService service = service(refusals, BuildhookMetrics.create(java.util.Set.of("default"), false));
        service.receive(toUnknownEndpoint("198.51.100.9"));
        service.receive(toUnknownEndpoint("198.51.100.9"));
        assertThat(lines()).hasSize(1);

        refusals.close();

        assertThat(lines()).hasSize(2);
        assertThat(lines().get(1)).startsWith("... and 1 more like it in 0.0 s since 2026-11-30T04:00:00Z");
        await().atMost(Duration.ofSeconds(30)).until(() -> Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.isAlive() && t.getName().equals("buildhook-refusal-log")));
    }

    private List<ILoggingEvent> copied() {
        synchronized (log) {
            return List.copyOf(log.list);
        }
    }
}
