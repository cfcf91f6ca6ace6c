package org.buildhook.servlet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import org.buildhook.runner.store.Job;
import org.buildhook.servlet.config.ConfigLoader;

/**
 * A real {@link BuildhookApplication} in a folder, for the tests of reloads and of nodes sharing a store: its
 * configuration and rules file written there (the rules rewritten as an operator does), signed deliveries, and its
 * jobs as stored.
 */
final class TestApplication {

    private TestApplication() {
    }

    /**
     * Writes {@code home/webhook-secret} and {@code home/buildhook.yaml}: data in {@code home/data}, the store at
     * {@code storeUrl} (SQLite in the data folder when null), the rules file {@code home/rules.yaml} (not written
     * here), the default endpoint with that secret, and {@code runner: {RUNNER}}.
     *
     * @param runner the {@code runner} keys, e.g. {@code "slot-retry: 1s"}
     * @return the configuration file
     */
    static Path configuration(Path home, String storeUrl, String runner) throws Exception {
        Files.writeString(home.resolve("webhook-secret"), DeliveryServiceTest.SECRET + "\n");
        return Files.writeString(home.resolve("buildhook.yaml"), "data-dir: data\n"
                + (storeUrl == null ? "" : "store: {url: '" + storeUrl + "'}\n")
                + "rules: rules.yaml\nendpoints: {default: {secrets: [{file: webhook-secret}]}}\n"
                + "runner: {" + runner + "}\n");
    }

    /** Starts the application of the configuration file {@code config} (relative paths from its folder). */
    static BuildhookApplication start(Path config) throws Exception {
        return BuildhookApplication.start(new ConfigLoader(Map.of(), config.getParent()).load(config));
    }

    /** Replaces {@code home/rules.yaml} as an operator or a deploy tool does: written elsewhere, moved over it. */
    static void rewriteRules(Path home, String text) throws Exception {
        Path next = Files.writeString(home.resolve("rules.yaml.next"), text);
        Files.move(next, home.resolve("rules.yaml"), StandardCopyOption.REPLACE_EXISTING,
                StandardCopyOption.ATOMIC_MOVE);
    }

    /** The fixture's signed delivery to {@code app}'s default endpoint: the id of the first job it makes. */
    static String deliver(BuildhookApplication app, String fixture) throws Exception {
        return app.deliveries().receive(DeliveryServiceTest.signed(DeliveryServiceTest.fixture(fixture), "default"))
                .jobIds().get(0);
    }

    /** The job {@code id} as stored now. */
    static Job job(BuildhookApplication app, String id) {
        return app.store().job(id).orElseThrow().job();
    }

    /**
     * Whether {@code job}'s execution was picked and put back (for want of a slot), and is not picked now: with
     * {@code runner.slot-retry: 1h} only a freed slot picks it again, so a gate finds it unpicked.
     */
    static boolean putBack(BuildhookApplication app, String job) throws Exception {
        try (var c = app.store().schedulerDataSource().getConnection();
                var p = c.prepareStatement("SELECT COUNT(*) FROM scheduled_tasks WHERE task_instance = ?"
                        + " AND picked = ? AND version > 1")) {
            p.setString(1, job);
            p.setBoolean(2, false);
            try (var rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1) == 1;
            }
        }
    }
}
