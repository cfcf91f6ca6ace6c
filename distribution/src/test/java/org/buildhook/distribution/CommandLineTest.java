package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.buildhook.core.Secret;
import org.buildhook.core.SignatureVerifier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The commands that need no running buildhook: check, send, test, help and version. */
class CommandLineTest {

    static final Path FIXTURES = Path.of(System.getProperty("buildhook.fixtures"));
    /** A JobServ body of build 67 (PASSED) for {@code buildhook test}. */
    static final String PAYLOAD = FIXTURES.resolve("build-67-passed.json").toString();

    @TempDir
    Path dir;
    HttpServer server;
    final StringWriter out = new StringWriter();
    final StringWriter err = new StringWriter();

    int run(String... args) {
        CommandLine cl = BuildhookCommand.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    /** A receiver that answers with the given statuses in turn, checking the signature as buildhook does. */
    String receiver(List<Integer> statuses, List<Boolean> verified) throws IOException {
        SignatureVerifier verifier = SignatureVerifier.of(Secret.of("s3cret"));
        AtomicInteger n = new AtomicInteger();
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/webhook", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            verified.add(verifier.verify(body, exchange.getRequestHeaders().getFirst("X-JobServ-Sig")).valid());
            int status = statuses.get(Math.min(n.getAndIncrement(), statuses.size() - 1));
            byte[] answer = "{\"ok\":true}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/webhook";
    }

    /** rules.yaml with one mistake, at 4:7: {@code comand} for {@code command}. */
    Path rulesWithATypo() throws IOException {
        return Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: a",
                "    run:",
                "      comand: [/bin/true]",
                ""));
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void sendSignsTheSampleSoTheReceiverVerifiesIt() throws IOException {
        List<Boolean> verified = new ArrayList<>();
        String url = receiver(List.of(202), verified);
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret\n");

        int code = run("send", url, "--sample", "--secret-file", secret.toString());

        assertThat(code).isEqualTo(ExitCodes.OK);
        assertThat(verified).containsExactly(true);
        assertThat(out.toString()).startsWith("HTTP 202 {\"ok\":true}");
    }

    @Test
    void sendRetriesLikeJobServAndFailsWhenNeverAccepted() throws IOException {
        List<Boolean> verified = new ArrayList<>();
        String url = receiver(List.of(503), verified);
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret");
        List<java.time.Duration> waits = new ArrayList<>();
        CommandLine cl = new CommandLine(new SendCommand(waits::add));
        cl.setOut(new PrintWriter(out, true));

        int code = cl.execute(url, FIXTURES.resolve("build-68-failed.json").toString(), "--secret-file",
                secret.toString());

        assertThat(code).isEqualTo(ExitCodes.FAILED);
        assertThat(verified).hasSize(4).containsOnly(true);
        assertThat(waits).containsExactlyElementsOf(SendCommand.JOBSERV_RETRY_DELAYS);
    }

    /**
     * tryout21 F8.7: a send signed with another secret than the endpoint's got {@code HTTP 401 …} and
     * "not accepted after 1 attempt(s)", without saying what to check. It names the option to check now.
     */
    @Test
    void sendRefusedForItsSignatureSaysToCheckTheSecretItWasGiven() throws IOException {
        String url = receiver(List.of(401), new ArrayList<>());
        Path wrong = Files.writeString(dir.resolve("wrong-secret"), "not the endpoint's\n");

        int code = run("send", url, "--sample", "--secret-file", wrong.toString(), "--no-retry");

        assertThat(code).isEqualTo(ExitCodes.FAILED);
        assertThat(out.toString()).contains("HTTP 401").contains("not accepted after 1 attempt(s): the server refused"
                + " the signature; check that --secret-file " + wrong + " holds the endpoint's secret")
                .doesNotContain("not the endpoint's\n");
    }

    /**
     * A server that cannot be reached is exit code 3, as documented ("a server could not be
     * reached"), not 1 (the answer is no): a script can tell a refusal from an outage.
     */
    @Test
    void sendToAServerThatCannotBeReachedExitsWith3AfterJobServsRetries() throws IOException {
        String closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = "http://127.0.0.1:" + socket.getLocalPort() + "/webhook";
        }
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret");
        List<java.time.Duration> waits = new ArrayList<>();
        CommandLine cl = new CommandLine(new SendCommand(waits::add));
        cl.setOut(new PrintWriter(out, true));

        int code = cl.execute(closed, "--sample", "--secret-file", secret.toString());

        assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(waits).containsExactlyElementsOf(SendCommand.JOBSERV_RETRY_DELAYS);
        assertThat(out.toString()).contains("ERROR ").contains("not accepted after 4 attempt(s): the server at "
                + closed + " could not be reached");
        assertThat(run("send", closed, "--sample", "--secret-file", secret.toString(), "--no-retry"))
                .isEqualTo(ExitCodes.UNAVAILABLE);
    }

    @Test
    void sendRefusesAMissingSecretVariableWithoutPrintingAnySecret() throws IOException {
        String url = receiver(List.of(202), new ArrayList<>());

        int code = run("send", url, "--sample", "--secret-env", "BUILDHOOK_TEST_SURELY_UNSET");

        assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).contains("BUILDHOOK_TEST_SURELY_UNSET is not set");
    }

    /**
     * A URL typed without its scheme ({@code localhost:8080}), with another one ({@code ftp://}) or none
     * at all was handed to the HTTP client, which threw: a stack trace. Now a usage error naming it. So was a port
     * outside 1-65535 (review55b F6).
     */
    @Test
    void sendAndTheAdminCommandsRefuseAServerUrlThatIsNotHttpSayingSo() throws IOException {
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret\n");
        for (String notHttp : List.of("localhost:8080", "notaurl", "ftp://example.org/webhook", "http://a b/", "http://",
                "http://127.0.0.1:99999/", "http://127.0.0.1:0/")) {
            assertThat(run("send", notHttp, "--sample", "--secret-file", secret.toString(), "--no-retry"))
                    .as("send " + notHttp + ": " + err).isEqualTo(ExitCodes.USAGE);
            assertThat(run("jobs", "--url", notHttp, "--token-file", secret.toString()))
                    .as("jobs --url " + notHttp + ": " + err).isEqualTo(ExitCodes.USAGE);
            assertThat(err.toString()).contains("'" + notHttp + "' is not a server URL");
        }
        assertThat(err.toString()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void testShowsTheExactArgvOfEachJobAndRunsNothing() throws IOException {
        Path marker = dir.resolve("ran");
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: per-build-run",
                "    when:",
                "      runs: {match: each, name: \"build-*\"}",
                "    run:",
                "      command: [/usr/bin/touch, \"" + marker + "\", \"${run.name}\"]",
                "  - name: only-failed",
                "    when: {status: FAILED}",
                "    run:",
                "      command: [/bin/false]",
                ""));

        int code = run("test", PAYLOAD, "--rules", rules.toString());

        assertThat(code).isEqualTo(ExitCodes.OK);
        assertThat(out.toString())
                .contains("1 of 2 rules fire, 3 jobs")
                .contains("\"build-aarch64\"]")
                .contains("rule only-failed: does not fire");
        assertThat(marker).doesNotExist();
    }

    @Test
    void testMatchesAsAnEndpointTheConfigurationHasNeverAsOneThatWouldAnswer404() throws IOException {
        Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: from-the-fleet-factory",
                "    when: {endpoint: fleet}",
                "    run: {command: [/bin/true]}",
                ""));
        Files.writeString(dir.resolve("secret"), "s3cret\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {fleet: {secrets: [{file: secret}]}}",
                ""));

        int code = run("test", PAYLOAD, "--config", config.toString());

        assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("on endpoint \"fleet\"").contains("rule from-the-fleet-factory: fires");

        int unknown = run("test", PAYLOAD, "--config", config.toString(), "--endpoint", "flet");

        assertThat(unknown).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("endpoint 'flet' is not in " + config + " (its endpoints: fleet)")
                .contains("give --endpoint with one of them").doesNotContain("Exception");
    }

    @Test
    void testReportsEveryRulesMistakeWithItsLine() throws IOException {
        int code = run("test", PAYLOAD, "--rules", rulesWithATypo().toString());

        assertThat(code).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("rules.yaml:4:7").contains("did you mean 'command'");
    }

    @Test
    void testListsSeveralRulesMistakesAsCheckDoes() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: a",
                "    when: {status: PASS}",
                "    run: {command: [/bin/true], timeout: 30}",
                ""));

        int code = run("test", PAYLOAD, "--rules", rules.toString());
        String tested = err.toString();
        err.getBuffer().setLength(0);
        run("check", "--rules", rules.toString());

        assertThat(code).isEqualTo(ExitCodes.FAILED);
        assertThat(tested.lines()).containsExactly(rules + ":3:20: unknown status 'PASS' (did you mean 'PASSED'?);"
                + " known: QUEUED, UPLOADING, RUNNING, PASSED, FAILED, RUNNING_WITH_FAILURES, PROMOTED, CANCELLING,"
                + " SKIPPED", rules + ":4:42: bad duration '30': write a number and a unit (ms, s, m, h, d), for"
                + " example 30s, 10m or 1h30m in 'timeout'", "2 mistake(s) found");
        assertThat(tested).isEqualTo(err.toString());
    }

    @Test
    void aFileThatCannotBeReadExitsWithTheDocumentedCodeAndSaysWhyInWords() throws IOException {
        Path missingRules = dir.resolve("conf/rules.yaml");

        assertThat(run("test", PAYLOAD, "--rules", missingRules.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("test", dir.resolve("no-such.json").toString(), "--rules", missingRules.toString()))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("check", "--rules", missingRules.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).contains(missingRules + " does not exist")
                .contains(dir.resolve("no-such.json") + " does not exist").doesNotContain("Exception");
    }

    /** A sparse file of {@code length} bytes: nothing of it is written to the disk. */
    Path sparse(String name, long length) throws IOException {
        Path file = dir.resolve(name);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(length);
        }
        return file;
    }

    /**
     * review55b F5: every file a user names was read with {@code Files.readAllBytes}: {@code /dev/zero}, or a file
     * larger than the heap, ended in an OutOfMemoryError and its stack trace. Each is refused in words, past a
     * limit that fits what it holds, with the exit code of a file that cannot be read.
     */
    @Test
    void aPayloadRulesOrSecretFileOverItsLimitOrADeviceIsRefusedInWordsAsAFileThatCannotBeRead() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: a\n    run: {command: [/bin/true]}\n");
        Path payload = sparse("big.json", (5L << 20) + 1);
        Path hugeRules = sparse("huge-rules.yaml", 8L << 30);
        Path hugeSecret = sparse("secret", 1L << 30);

        assertThat(run("test", payload.toString(), "--rules", rules.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("test", "/dev/zero", "--rules", rules.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("test", PAYLOAD, "--rules", "/dev/zero")).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("check", "--rules", hugeRules.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        // send's payload: up to the largest http.max-body (1 GiB), SendPayloadLimitTest (review56 F5).
        assertThat(run("send", "http://127.0.0.1:9/webhook", "--sample", "--secret-file", "/dev/zero"))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("send", "http://127.0.0.1:9/webhook", "--sample", "--secret-file", hugeSecret.toString()))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("jobs", "--url", "http://127.0.0.1:9/", "--token-file", "/dev/zero"))
                .isEqualTo(ExitCodes.UNAVAILABLE);

        String said = err.toString();
        assertThat(said).doesNotContain("Exception").doesNotContain("OutOfMemory")
                .contains("cannot read " + payload + ": " + payload + " is 5.0 MiB (5242881 bytes), over the limit of 5"
                        + " MiB, the largest body a server takes by default (http.max-body): a larger one is answered"
                        + " 413; for a server with a larger http.max-body, give its configuration with --config; check"
                        + " that this names the payload file (a JobServ build event is a few KiB)")
                .contains("cannot read /dev/zero: /dev/zero is not a regular file (a device, a pipe or a socket) and"
                        + " gave more than the limit of 5 MiB, the largest body a server takes by default")
                .contains("/dev/zero: cannot read the rules file: /dev/zero is not a regular file (a device, a pipe or"
                        + " a socket) and gave more than the limit of 16 MiB; check that this names the rules file")
                .contains(hugeRules + ": cannot read the rules file: " + hugeRules + " is 8 GiB, over the limit of 16"
                        + " MiB; check that this names the rules file")
                .contains("cannot read the secret file /dev/zero: /dev/zero is not a regular file (a device, a pipe or"
                        + " a socket) and gave more than the limit of 64 KiB; check that --secret-file names the file"
                        + " that holds the endpoint's secret")
                .contains("cannot read the secret file " + hugeSecret + ": " + hugeSecret + " is 1 GiB, over the limit"
                        + " of 64 KiB")
                .contains("cannot read the admin token file /dev/zero: /dev/zero is not a regular file (a device, a"
                        + " pipe or a socket) and gave more than the limit of 64 KiB; check that --token-file names the"
                        + " file that holds the server's admin token");
    }

    /** The payload's limit for {@code test} with a configuration is that configuration's {@code http.max-body}. */
    @Test
    void testRefusesAPayloadOverTheConfigurationsMaxBodyAsItsServerWould() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: a\n    run: {command: [/bin/true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: " + rules
                + "\nhttp:\n  max-body: 1KiB\n");

        assertThat(run("test", PAYLOAD, "--config", config.toString())).isEqualTo(ExitCodes.UNAVAILABLE);

        assertThat(err.toString()).contains("cannot read " + PAYLOAD + ": " + PAYLOAD + " is 2.3 KiB (2366 bytes), over"
                + " the limit of 1 KiB, the largest body this configuration's server takes (http.max-body): a larger one"
                + " is answered 413");
    }

    /** For {@code check} and {@code serve}, a configuration file or its rules file over the limit, in the same words. */
    @Test
    void checkAndServeRefuseAConfigurationOrRulesFileOverTheLimitAsAFileThatCannotBeRead() throws IOException {
        Path hugeConfig = sparse("huge.yaml", 8L << 30);
        Path hugeRules = sparse("huge-rules.yaml", 8L << 30);
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: " + hugeRules + "\n");

        assertThat(run("check", "--config", hugeConfig.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("check", "--config", "/dev/zero")).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("serve", "--config", hugeConfig.toString(), "--host", "127.0.0.1", "--port", "0"))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "0"))
                .isEqualTo(ExitCodes.UNAVAILABLE);

        assertThat(err.toString()).doesNotContain("Exception").doesNotContain("OutOfMemory")
                .contains(hugeConfig + ": cannot read the configuration file: " + hugeConfig + " is 8 GiB, over the"
                        + " limit of 16 MiB; check that this names the configuration file (buildhook.yaml)")
                .contains("/dev/zero: cannot read the configuration file: /dev/zero is not a regular file")
                .contains("cannot start: the rules file cannot be read:\n" + hugeRules + ": cannot read the rules file: "
                        + hugeRules + " is 8 GiB, over the limit of 16 MiB");
        assertThat(dir.resolve("data/webhook-secret")).doesNotExist();
    }

    @Test
    void checkAndTestWarnAboutWhatWouldKeepAJobFromStartingOnThisMachine() throws IOException {
        Path crlf = Files.writeString(dir.resolve("crlf.sh"), "#!/bin/sh\r\necho hi\r\n");
        Path plain = Files.writeString(dir.resolve("plain.sh"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(crlf, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(plain, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: missing-program",
                "    run: {command: [/opt/no-such/deploy.sh]}",
                "  - name: not-executable",
                "    run: {command: [" + plain + "]}",
                "  - name: windows-line-ends",
                "    run: {command: [" + crlf + "]}",
                "  - name: missing-workdir",
                "    run: {command: [/bin/true], workdir: /srv/no-such-folder}",
                "  - name: fine",
                "    run: {command: [true]}",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run("test", PAYLOAD, "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString())
                .contains(rules + ":3:21: warning: rule 'missing-program': executable not found: /opt/no-such/deploy.sh")
                .contains(rules + ":5:21: warning: rule 'not-executable': permission denied: " + plain + " is not executable")
                .contains(rules + ":7:21: warning: rule 'windows-line-ends': the #! line of " + crlf
                        + " ends with a carriage return")
                .contains(rules + ":9:42: warning: rule 'missing-workdir': working directory does not exist on this"
                        + " machine: /srv/no-such-folder")
                .doesNotContain("rule 'fine'");
        assertThat(out.toString().split("warning: rule 'missing-program'", -1)).as("printed by check and by test")
                .hasSize(3);
    }

    /**
     * tryout38 F6: check and test warn, at the variable's line and column, of an env name that looks secret only
     * because a secret word is part of a longer word, and of no real secret's name; never with its value. A warning:
     * both exit 0.
     */
    @Test
    void checkAndTestWarnAboutAnEnvNameSecretOnlyByAWordInsideALongerWord() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: fp-names",
                "    run:",
                "      command: [/bin/true]",
                "      env:",
                "        PASSENGER_ENV: production",
                "        DB_PASSWORD: pw-1234",
                "        MYPASSWORD: my-5678",
                "        GITHUB_TOKEN: ghs-9012",
                "        TOKENIZER_MODEL: gpt2",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run("test", PAYLOAD, "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        String said = out.toString();
        assertThat(said.split(java.util.regex.Pattern.quote(rules + ":6:9: warning: 'PASSENGER_ENV' looks secret only"
                + " because 'PASS' is part of the word 'PASSENGER': its value, 10 characters, is shown as *** in test,"
                + " job show, the API and the status page, and replaced by *** wherever it appears elsewhere"), -1))
                .as("printed by check and by test").hasSize(3);
        assertThat(said.split(java.util.regex.Pattern.quote(rules + ":10:9: warning: 'TOKENIZER_MODEL' looks secret"
                + " only because 'TOKEN' is part of the word 'TOKENIZER': its value, 4 characters,"), -1)).hasSize(3);
        assertThat(said).contains("deprecated since 2026-12-05").doesNotContain("'DB_PASSWORD' looks secret")
                .doesNotContain("'MYPASSWORD' looks secret").doesNotContain("'GITHUB_TOKEN' looks secret")
                .doesNotContain("production").doesNotContain("gpt2");
    }

    /**
     * tryout39 F8: check and test warn, at the variable's line and column, of an env name secret by a whole word whose
     * value seems a setting (KEY_ALGORITHM: RS256, its every RS256 masked in the job's log), one line per name, never
     * with its value; not of a real secret's. A warning: both exit 0.
     */
    @Test
    void checkAndTestWarnAboutASecretNameThatSeemsToHoldASetting() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: settings",
                "    run:",
                "      command: [/bin/true]",
                "      env:",
                "        KEY_ALGORITHM: RS256",
                "        AUTH_ENABLED: \"true\"",
                "        DB_PASSWORD: pw-1234",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run("test", PAYLOAD, "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        String said = out.toString();
        assertThat(said.split(java.util.regex.Pattern.quote(rules + ":6:9: warning: 'KEY_ALGORITHM' looks secret (by"
                + " the word 'KEY') but seems to hold a setting, as its name ends in 'ALGORITHM': its value is replaced"
                + " by *** in every line of the job's log"), -1)).as("printed by check and by test").hasSize(3);
        assertThat(said.split(java.util.regex.Pattern.quote(rules + ":7:9: warning: 'AUTH_ENABLED' looks secret"), -1))
                .hasSize(3);
        assertThat(said.lines().filter(l -> l.contains("warning:")).count()).as("one line per name, each run")
                .isEqualTo(4);
        assertThat(said).doesNotContain("'DB_PASSWORD' looks secret").doesNotContain("RS256");
    }

    /** Every command's help, by its qualified name ("buildhook jobs", "buildhook job show"). */
    static java.util.Map<String, String> everyHelp() {
        java.util.Map<String, String> helps = new java.util.LinkedHashMap<>();
        List<CommandLine> commands = new ArrayList<>(List.of(BuildhookCommand.commandLine()));
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            commands.addAll(command.getSubcommands().values());
            if (!command.getCommandSpec().name().equals("help")) {
                helps.put(command.getCommandSpec().qualifiedName(), command.getUsageMessage(CommandLine.Help.Ansi.OFF));
            }
        }
        return helps;
    }

    /**
     * Each command's help ends with the exit codes true for it (tryout30 F6: every one said "1 … check found
     * errors, send not accepted", serve's, approve's and jobs' too, and approve's did not say 409).
     */
    @Test
    void eachCommandsHelpEndsWithTheExitCodesTrueForIt() {
        java.util.Map<String, String> helps = new java.util.LinkedHashMap<>();
        everyHelp().forEach((name, help) -> helps.put(name, help.replaceAll("\\s+", " ")));
        helps.forEach((name, help) -> {
            assertThat(help).as(name).contains("Exit codes:");
            String last = help.strip().substring(help.strip().lastIndexOf("Exit codes:"));
            assertThat(last).as(name).startsWith("Exit codes: 0 ").contains("2 usage error");
            if (!name.equals("buildhook")) {
                assertThat(last).as(name + ": its own exit codes").doesNotContain("check found errors")
                        .doesNotContain("each command's help says");
            }
            if (!name.equals("buildhook check")) {
                assertThat(last).as(name).doesNotContain("mistakes found");
            }
        });
        assertThat(helps.get("buildhook check")).contains("1 mistakes found");
        assertThat(helps.get("buildhook send")).contains("1 answered but not accepted");
        assertThat(helps.get("buildhook serve")).contains("Exit codes: 0 stopped by a signal (SIGTERM, Ctrl-C, SIGHUP), 2 usage");
        assertThat(helps.get("buildhook approve")).contains("1 no such job (404) or it is not awaiting an approval"
                + " (409");
        assertThat(helps.get("buildhook reject")).contains("(409");
        assertThat(helps.get("buildhook cancel")).contains("0 cancelled, or the job had already ended");
        assertThat(helps.get("buildhook jobs")).contains("1 the admin API is off");
    }

    /** serve, check and test take -c FILE for --config, as the admin commands do (tryout30 F6). */
    @Test
    void serveCheckAndTestTakeDashCForTheConfigurationAsTheAdminCommandsDo() throws IOException {
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: a\n    run: {command: [/bin/true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: rules.yaml\n");

        assertThat(run("check", "-c", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(config + ": ok").contains("rules.yaml: ok (1 rule(s): a)");
        assertThat(run("test", PAYLOAD, "-c", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("rule a: fires");
        for (String name : List.of("serve", "check", "test", "jobs", "cancel")) {
            assertThat(everyHelp().get("buildhook " + name)).as(name).contains("-c, --config=FILE");
        }
    }

    /**
     * serve's help says SIGHUP stops the server, and also how to reload what an operator changes: the rules file by
     * saving it, buildhook.yaml by a restart (tryout30 F6: an operator used to kill -HUP stopped it instead).
     */
    @Test
    void servesHelpSaysHowToReloadTheRulesAndThatBuildhookYamlNeedsARestart() {
        String help = everyHelp().get("buildhook serve").replaceAll("\\s+", " ");

        assertThat(help).contains("SIGHUP stops it too").contains("it is not a reload")
                .contains("To reload the rules, save the rules file: the server loads it again by itself")
                .contains("a file with mistakes is refused")
                .contains("buildhook.yaml is read at start only: a change to it needs a restart"
                        + " (systemctl restart buildhook)");
    }

    /** cancel's help says which jobs it cancels, and that the answer to an approval is reject (tryout30 F6). */
    @Test
    void cancelsHelpSaysItCancelsWaitingAndAwaitingApprovalJobsAndPointsToRejectForAnApproval() {
        String help = everyHelp().get("buildhook cancel");

        assertThat(help.replaceAll("\\s+", " ")).contains("QUEUED, WAITING (for a resource or its retry),"
                + " AWAITING_APPROVAL or RUNNING").contains("on-cancel follow-up starts, even when nothing ran")
                .contains("use 'reject'");
    }

    /**
     * A usage mistake prints the error and where the help is, not the whole help, which pushed the error off a
     * small terminal (tryout30 F6: jobs --state bogus); picocli's suggestions stay; exit code 2.
     */
    @Test
    void aUsageMistakeSaysTheErrorAndWhereTheHelpIsNotTheWholeHelp() {
        assertThat(run("jobs", "--state", "bogus")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--state").contains("bogus")
                .contains("See 'buildhook jobs --help' for its options and examples.")
                .doesNotContain("Usage:").doesNotContain("Exit codes:");
        assertThat(err.toString().strip().lines().count()).as(err.toString()).isLessThanOrEqualTo(3);

        err.getBuffer().setLength(0);
        assertThat(run("check", "--rulez", "x.yaml")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("Unknown options: '--rulez', 'x.yaml'")
                .contains("Possible solutions: --rules")
                .contains("See 'buildhook check --help' for its options and examples.")
                .doesNotContain("Usage:");

        err.getBuffer().setLength(0);
        assertThat(run("job", "show")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("Missing required parameter: 'JOB'")
                .contains("See 'buildhook job show --help'").doesNotContain("Usage:");
    }

    /**
     * tryout48 F6: options of a command given before it ({@code buildhook --url URL jobs}, as kubectl and git allow)
     * were "Unknown options: '--url', …": it says now that they go after the command, and the command line so; exit 2,
     * no whole help. Options that are not the command's stay unknown.
     */
    @Test
    void optionsOfTheCommandGivenBeforeItAreSaidToGoAfterIt() {
        assertThat(run("--url", "http://127.0.0.1:19180/buildhook/", "jobs")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).isEqualTo("options go after the command: buildhook jobs --url"
                + " http://127.0.0.1:19180/buildhook/\nSee 'buildhook jobs --help' for its options and examples.\n");

        err.getBuffer().setLength(0);
        assertThat(run("-c", "/etc/my buildhook.yaml", "--token-env=T", "job", "show", "01M8Y436YJ2FCKM09Q6W0BJ2Z8"))
                .isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("options go after the command: buildhook job show"
                + " 01M8Y436YJ2FCKM09Q6W0BJ2Z8 -c '/etc/my buildhook.yaml' --token-env=T\n")
                .contains("See 'buildhook job --help'").doesNotContain("Usage:").doesNotContain("Unknown");

        err.getBuffer().setLength(0);
        assertThat(run("--rulez", "x.yaml", "jobs")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("Unknown options: '--rulez', 'x.yaml'")
                .doesNotContain("go after").doesNotContain("Usage:");
    }

    /**
     * A value that is not a whole number for a numeric option is refused in the operator's words, not Java's
     * (tryout36 F4: {@code deliveries --build abc} said "'abc' is not a long"); so for every numeric option of every
     * command, each of which has its words.
     */
    @Test
    void aNumericOptionGivenNoWholeNumberSaysWhatItExpectsInWords() {
        assertThat(run("deliveries", "--build", "abc")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith(
                "Invalid value for option '--build': 'abc' is not a build number (a whole number such as 67)")
                .contains("See 'buildhook deliveries --help'").doesNotContain("long").doesNotContain("Usage:");

        err.getBuffer().setLength(0);
        assertThat(run("logs", "01M8Y436YJ2FCKM09Q6W0BJ2Z8", "--attempt", "two")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("Invalid value for option '--attempt': 'two' is not an attempt number");

        err.getBuffer().setLength(0);
        assertThat(run("jobs", "--limit", "99999999999")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("Invalid value for option '--limit': '99999999999' is out of range for"
                + " a count (a whole number from 1 to 500)");

        err.getBuffer().setLength(0);
        assertThat(run("serve", "--port", "http")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).startsWith("Invalid value for option '--port': 'http' is not a port number");

        List<String> unworded = new ArrayList<>();
        List<CommandLine> commands = new ArrayList<>(List.of(BuildhookCommand.commandLine()));
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            commands.addAll(command.getSubcommands().values());
            for (CommandLine.Model.ArgSpec arg : command.getCommandSpec().args()) {
                String name = arg.isOption() ? ((CommandLine.Model.OptionSpec) arg).longestName() : arg.paramLabel();
                if (NumberWords.wholeNumber(arg.type()) && !NumberWords.WORDS.containsKey(name)) {
                    unworded.add(command.getCommandSpec().qualifiedName() + " " + name);
                }
            }
        }
        assertThat(unworded).as("numeric options without words in NumberWords.WORDS").isEmpty();
    }

    /**
     * A job id where a subcommand or nothing is expected is answered with the command meant (tryout31 F5: {@code
     * buildhook job 01M…} said only "Unmatched argument at index 1"); so is a group given without its subcommand.
     * Still the short usage error and exit code 2.
     */
    /**
     * tryout47b F6: {@code buildhook} alone printed its usage and exited 0, so a script's {@code buildhook $CMD} with an
     * empty variable went on. A usage mistake: the usage on standard error, exit 2.
     */
    @Test
    void noCommandIsAUsageMistake() {
        assertThat(run()).isEqualTo(ExitCodes.USAGE);
        assertThat(out.toString()).isEmpty();
        assertThat(err.toString()).contains("Usage: buildhook").contains("status");
        assertThat(run("--help")).isZero();
        assertThat(run("--version")).isZero();
    }

    @Test
    void aJobIdWhereNoneIsTakenSuggestsJobShow() {
        String id = "01M8Y436YJ2FCKM09Q6W0BJ2Z8";
        for (List<String> args : List.of(List.of("job", id), List.of(id), List.of("jobs", id),
                List.of("job", "--json", id.toLowerCase(java.util.Locale.ROOT)))) {
            err.getBuffer().setLength(0);
            assertThat(run(args.toArray(String[]::new))).as(args.toString()).isEqualTo(ExitCodes.USAGE);
            String shown = args.get(args.size() - 1);
            assertThat(err.toString()).as(args.toString())
                    .contains("did you mean 'buildhook job show " + shown + "'?").doesNotContain("Usage:");
            assertThat(err.toString().strip().lines().count()).as(err.toString()).isLessThanOrEqualTo(3);
        }

        err.getBuffer().setLength(0);
        assertThat(run("job")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("'buildhook job' needs a subcommand: did you mean 'buildhook job show JOB'?")
                .contains("See 'buildhook job --help'").doesNotContain("Usage:");

        // Not for what is no id, nor where the command takes an id of its own.
        err.getBuffer().setLength(0);
        assertThat(run("job", "shw")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).doesNotContain("did you mean 'buildhook job show");
        err.getBuffer().setLength(0);
        assertThat(run("jobs", "--state", "failed", "extra")).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).doesNotContain("did you mean");
    }

    /**
     * A placeholder or shell variable written the wrong way ({@code $build.id}, {@code $BUILDHOOK_BUILD_ID})
     * stays literal text, since no shell runs the command: check and test warn, with where and what to write,
     * and still exit 0 (tryout30 F2: {@code typo2.yaml: ok}, and the job got "$BUILDHOOK_BUILD_ID").
     */
    @Test
    void checkAndTestWarnAboutAPlaceholderWrittenTheShellWay() throws IOException {
        Path rules = Files.writeString(dir.resolve("typo2.yaml"), String.join("\n",
                "rules:",
                "  - name: typos",
                "    run:",
                "      command: [/bin/echo, \"$build.id\", \"$BUILDHOOK_BUILD_ID\"]",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run("test", PAYLOAD, "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString()).contains(rules + ": ok (1 rule(s): typos)")
                .contains(rules + ":4:28: warning: '$build.id' is not a placeholder: a '$' not followed by '{' is just"
                        + " a '$' and no shell runs the command, so it stays that literal text; write ${build.id}")
                .contains(rules + ":4:41: warning: '$BUILDHOOK_BUILD_ID' stays that literal text: no shell expands"
                        + " it; use ${build.id} or read the variable in your script");
        assertThat(out.toString().split("warning: '\\$build.id'", -1)).as("printed by check and by test").hasSize(3);
    }

    /**
     * tryout40 F3: check of a rule whose shell code measures a variable with {@code ${#FLEET_CONFIG}} said only
     * "unknown placeholder" and the list of placeholders; it says to write the shell's {@code ${} as {@code $${},
     * with the text so written, at the argument's place; check passes once it is.
     */
    @Test
    void checkSaysHowToWriteTheShellsOwnDollarBraceInShellCode() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules.yaml"), String.join("\n",
                "rules:",
                "  - name: fleet",
                "    run: {command: [/bin/sh, -c, 'echo \"len: ${#FLEET_CONFIG}\"']}",
                ""));

        assertThat(run("check", "--rules", rules.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString().lines()).first().asString().startsWith(rules + ":3:34: unknown placeholder"
                + " '${#FLEET_CONFIG}': in shell code write $${ for the shell's own ${…} (docs/rules.md#placeholders):"
                + " $${#FLEET_CONFIG}; known: ${build.id}, ");

        Files.writeString(rules, Files.readString(rules).replace("${#", "$${#"));
        err.getBuffer().setLength(0);
        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
    }

    /**
     * tryout33 F7: with a credential in the command and secrets under names outside the old list, check said
     * "ok" with no warning and test printed all of them in clear (its output lands in CI logs). Now test shows
     * none of them, and check and test warn about each argument holding one, at its line and column: ps shows a
     * command's arguments to every user, which buildhook cannot hide.
     */
    /**
     * mask38: check warns of these programs' own password flags and of a secret flag's value in shell code, not of
     * the argument after --no-password, and test shows them as ***.
     */
    @Test
    void checkWarnsOfAndTestHidesThePasswordsOfRedisCliKeytoolAndALongPassFlag() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules-programs.yaml"), String.join("\n",
                "rules:",
                "  - name: programs",
                "    run:",
                "      command: [redis-cli, -a, redis-pa55-38, PING]",
                "    on-success:",
                "      command: [keytool, -list, -storepass, ks-pa55-38]",
                "    on-failure:",
                "      command: [deploy, --db-pass, db-pa55-38, --no-password, mydb]",
                "  - name: shell",
                "    run:",
                "      command: [/bin/sh, -c, \"deploy --db-pass db-sh-38 && psql --no-password mydb\"]",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        String check = out.toString();
        assertThat(run("test", PAYLOAD, "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        String test = out.toString().substring(check.length());

        assertThat(check).contains(rules + ":4:32: warning: this argument looks like it holds a secret (a password on the"
                        + " command line of redis-cli)")
                .contains(rules + ":6:45: warning: this argument looks like it holds a secret (a password on the"
                        + " command line of keytool)")
                .contains(rules + ":8:36: warning: this argument looks like it holds a secret (the value of '--db-pass')")
                .contains(rules + ":11:30: warning: this argument looks like it holds a secret (the value of"
                        + " '--db-pass' in shell code)")
                .doesNotContain(":8:63:");
        assertThat(test).contains("[\"redis-cli\", \"-a\", \"***\", \"PING\"]",
                "[\"keytool\",\"-list\",\"-storepass\",\"***\"]",
                "[\"deploy\",\"--db-pass\",\"***\",\"--no-password\",\"mydb\"]")
                .contains("deploy --db-pass *** && psql --no-password mydb")
                .doesNotContain("redis-pa55-38", "ks-pa55-38", "db-pa55-38", "db-sh-38");
    }

    /**
     * tryout38 F7: check called openssl's -passin "pass:…" "a secret-named header (pass: …)", and warned of x264's
     * --pass 1 as of a secret, a value too short for the log to mask: now it names openssl's pass: argument, and says
     * nothing of a value of fewer than 4 characters after a secret flag (a separate argument or in shell code).
     */
    @Test
    void checkNamesOpensslsPassArgumentAndNotAValueTooShortToMask() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules-f7.yaml"), String.join("\n",
                "rules:",
                "  - name: p12",
                "    run:",
                "      command: [/usr/bin/openssl, pkcs12, -in, a.p12, -passin, \"pass:SepSsl777\", -nokeys]",
                "  - name: video",
                "    run:",
                "      command: [x264, --pass, \"1\", --bitrate, \"1000\", -o, out.264, in.y4m]",
                "    on-success:",
                "      command: [/bin/sh, -c, \"x264 --pass 2 --bitrate 1000 -o out.264 in.y4m\"]",
                "    on-failure:",
                "      command: [deploy, --db-pass, db-pa55-39]",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        String check = out.toString();
        assertThat(check).contains(rules + ":4:64: warning: this argument looks like it holds a secret (openssl's"
                        + " pass:PASSWORD argument, the password itself; openssl reads it from a variable with env:NAME,"
                        + " as -passin env:P12_PASSWORD)")
                .doesNotContain("secret-named header")
                .doesNotContain("(the value of '--pass'")
                .contains(rules + ":11:36: warning: this argument looks like it holds a secret (the value of"
                        + " '--db-pass')");
    }

    @Test
    void testHidesSecretsWhateverTheirNameAndCheckWarnsAboutACredentialInTheCommand() throws IOException {
        Path rules = Files.writeString(dir.resolve("rules-argsecret.yaml"), String.join("\n",
                "rules:",
                "  - name: argsecret",
                "    run:",
                "      command: [/usr/bin/curl, -s, -H, \"Authorization: Bearer sk-live-abc123\", --password, hunter3,",
                "                \"${build.url}\", \"Authorization: Bearer ${build.id}\"]",
                "      env:",
                "        FOUNDRIES_BEARER: tok-BEARER-eeee5555",
                "        SLACK_WEBHOOK_URL: \"https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX\"",
                "        GITHUB_PAT: ghp_abcdef123456",
                "        DB_PWD: hunter2",
                "        TARGET: staging",
                "    on-failure:",
                "      command: [/opt/page.sh, \"https://hooks.slack.com/services/T1/B1/YYYYsecretYYYY\"]",
                "    on-success:",
                "      command: [/usr/bin/curl, -H, \"OSF-TOKEN: tok-OSF-pppp9090\", -H, \"X-Api-Key: tok-XAPI-ffff6666\",",
                "                -H, \"Accept: text/plain\", -H, \"X-Api-Key: ${build.id}\"]",
                ""));

        assertThat(run("check", "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        String check = out.toString();
        assertThat(run("test", PAYLOAD, "--rules", rules.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        String test = out.toString().substring(check.length());

        assertThat(check).contains(rules + ":4:40: warning: this argument looks like it holds a secret (an Authorization"
                + " header): every user of this machine can read a command's arguments (ps, /proc) while it runs")
                .contains(rules + ":4:92: warning: this argument looks like it holds a secret (the value of '--password')")
                .contains(rules + ":13:31: warning: this argument looks like it holds a secret (a chat webhook URL")
                .contains(rules + ":15:36: warning: this argument looks like it holds a secret (a secret-named header"
                        + " (OSF-TOKEN: …))")
                .contains(rules + ":15:71: warning: this argument looks like it holds a secret (a secret-named header"
                        + " (X-Api-Key: …))")
                .contains("give the secret in 'env' under a name that looks secret");
        assertThat(check.split("warning: ", -1)).as("5 warnings, none for ${build.url}, Bearer ${build.id}, Accept"
                        + " nor X-Api-Key: ${build.id}: " + check)
                .hasSize(6);
        assertThat(test).doesNotContain("sk-live-abc123", "hunter3", "XXXXsecretXXXX", "abcdef123456", "hunter2",
                        "YYYYsecretYYYY", "pppp9090", "ffff6666", "eeee5555")
                .contains("\"OSF-TOKEN: ***\"", "\"X-Api-Key: ***\"", "\"Accept: text/plain\"", "FOUNDRIES_BEARER=\"***\"")
                .contains("\"Authorization: Bearer ***\"", "\"--password\", \"***\"", "DB_PWD=\"***\"",
                        "GITHUB_PAT=\"***\"", "SLACK_WEBHOOK_URL=\"***\"", "TARGET=\"staging\"",
                        "hooks.slack.com/services/***", "\"https://api.foundries.io/projects/andy-corp/lmp/builds/67/\"");
    }

    /**
     * A valid rules file that runs nothing is said like every other warning of check and test, as
     * {@code file: warning: …} on their output, not as a server log line (timestamp, thread, logger)
     * printed by the rules loader.
     */
    @Test
    void checkAndTestSayARulesFileThatRunsNothingAsAWarningOfTheirOwn() throws IOException {
        Path none = Files.writeString(dir.resolve("none.yaml"), "rules: []\n");
        Path disabled = Files.writeString(dir.resolve("disabled.yaml"),
                "rules:\n  - name: later\n    enabled: false\n    run: {command: [/bin/true]}\n");

        assertThat(run("check", "--rules", none.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run("test", PAYLOAD, "--rules", disabled.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString()).contains(none + ": ok (0 rule(s))\n")
                .contains(none + ": warning: no enabled rules: no delivery will start a job")
                .contains(disabled + ": warning: no enabled rules: no delivery will start a job");
    }

    /**
     * {@code check --config F --rules R} checks F too (with R in place of its rules file): it said
     * "R: ok" and exited 0 for a configuration with mistakes, which a CI job checking both took for a
     * valid pair. {@code --rules} alone still checks only that file.
     */
    @Test
    void checkWithAConfigurationAndARulesFileChecksBoth() throws IOException {
        Path rules = Files.writeString(dir.resolve("other-rules.yaml"), "rules:\n  - name: fine\n    run: {command: [true]}\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: own\n    run: {command: [true]}\n");
        Path broken = Files.writeString(dir.resolve("broken.yaml"), "data-dir: data\nrules: rules.yaml\nrunner: {threads: 0}\n");
        Path good = Files.writeString(dir.resolve("good.yaml"), "data-dir: data\nrules: rules.yaml\n");

        assertThat(run("check", "--config", broken.toString(), "--rules", rules.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains(broken + ":3:19: runner.threads: must be between 1 and 1000, got 0");
        assertThat(run("check", "--config", good.toString(), "--rules", rules.toString())).as(err.toString())
                .isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(good + ": ok (").contains(rules + ": ok (1 rule(s): fine)")
                .doesNotContain("rule(s): own");
        assertThat(run("check", "--rules", rules.toString())).isEqualTo(ExitCodes.OK);
    }

    @Test
    void checkAndTestWarnAboutASecretFileEndingInASpace() throws IOException {
        Files.writeString(dir.resolve("secret"), "s3cret \n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: fine\n    run: {command: [true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nrules: rules.yaml\nendpoints: {default: {secrets: [{file: secret}]}}\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(run("test", PAYLOAD, "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString().split("ends with a space or tab", -1)).as("said by check and by test").hasSize(3);
        assertThat(out.toString()).contains(config + ":3:40: warning: endpoints.default.secrets[0].file: the secret in "
                + dir.resolve("secret") + " ends with a space or tab").doesNotContain("s3cret ");
        // --strict fails only when serve would not start (CheckTablePrivilegesTest): not for a warning like this.
        assertThat(run("check", "--strict", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
    }

    /**
     * names40: a name of runner.inherit-env secret by a whole word and ending in a setting's word (AUTH_ENABLED) has
     * its value masked in every job's log, as a rule's env name's: check warns of it at its place in the
     * configuration, as of a rule's (serve logs the same warnings at its start). A warning: check exits 0.
     */
    @Test
    void checkWarnsAtItsPlaceInTheConfigurationOfAnInheritedSecretNameEndingInASettingsWord() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nrunner:\n  inherit-env: [HTTPS_PROXY, AUTH_ENABLED]\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString()).contains(config + ":3:30: warning: runner.inherit-env[1]: 'AUTH_ENABLED' looks"
                + " secret (by the word 'AUTH') but seems to hold a setting, as its name ends in 'ENABLED': jobs"
                + " inherit it");
    }

    /** As the rules file's warnings and every error: {@code file:line:column: warning: …}, the file said once. */
    @Test
    void checkNamesTheFileOnceInEachWarningWithItsLineAndColumnWhereThereIsOne() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nendpoints: {default: {secrets: [{value: an-inline-secret-value}]}}\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        List<String> warnings = out.toString().lines().filter(l -> l.contains("warning")).toList();
        assertThat(warnings).containsExactly(
                config + ":2:41: warning: endpoints.default.secrets[0].value: inline secret; prefer file: or env: (a file"
                        + " that holds secrets must not be checked in)",
                config + ": warning: no rules file configured (rules:): webhooks are received and stored, but no job runs");
    }

    /**
     * Which secret file is used is worth knowing, not a problem: said as a note, not a warning (it was
     * a warning at every normal start, and warnings that are always there teach operators to skip
     * warnings). A secret generated just now stays a warning (ConfigLoaderTest): it must be handed to
     * JobServ.
     */
    @Test
    void aSecretFileInUseIsANoteNotAWarning() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nrules: rules.yaml\n");
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: fine\n    run: {command: [true]}\n");
        Path secret = dir.resolve("data/webhook-secret").toAbsolutePath();
        Files.createDirectories(secret.getParent());
        Files.writeString(secret, "a-secret-generated-by-an-earlier-start\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString().lines().filter(l -> l.contains("warning"))).as(out.toString()).isEmpty();
        assertThat(out.toString().lines()).contains(config + ": note: using the secret of endpoint 'default' in "
                + secret);
    }

    @Test
    void testNeedsNoneOfTheServersSecretsOnlyItsRulesFile() throws IOException {
        Files.writeString(dir.resolve("rules.yaml"), "rules:\n  - name: fine\n    run: {command: [true]}\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "endpoints: {lmp: {secrets: [{env: BUILDHOOK_TEST_SURELY_UNSET_SECRET}, {file: /no/such/jobserv-secret}]}}",
                "admin: {token: {env: BUILDHOOK_TEST_SURELY_UNSET_TOKEN}}",
                ""));

        int code = run("test", PAYLOAD, "--config", config.toString(), "--endpoint", "lmp");

        assertThat(code).as("the server's secrets are the server's: " + err).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains("rule fine: fires, 1 job").contains("BUILDHOOK_ENDPOINT=\"lmp\"");
        try (var left = Files.list(dir)) {
            assertThat(left).as("nothing written").hasSize(2);
        }
        assertThat(run("check", "--config", config.toString())).as("check, the validator, still insists")
                .isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("BUILDHOOK_TEST_SURELY_UNSET_SECRET is not set")
                .contains("/no/such/jobserv-secret not found").contains("BUILDHOOK_TEST_SURELY_UNSET_TOKEN is not set");
    }

    /**
     * A file where buildhook must make a folder (the data folder, the SQLite store's) is a mistake of
     * the configuration (a job log folder that cannot be made is a warning at start: LogDirectoryWarningTest): said by check and by serve at the key that put the folder there,
     * with what to do, before anything is written; not "already exists" at start with no place.
     */
    @Test
    void aFileWhereAFolderMustBeMadeIsAMistakeAtTheKeyThatPutsItThere() throws IOException {
        Path file = Files.writeString(dir.resolve("not-a-folder"), "a file\n");
        Path store = Files.writeString(dir.resolve("store.yaml"), String.join("\n",
                "data-dir: data",
                "store: {url: \"jdbc:sqlite:not-a-folder/buildhook.db\"}",
                ""));
        Path dataDir = Files.writeString(dir.resolve("data-dir.yaml"), "data-dir: not-a-folder\n");

        assertThat(run("check", "--config", store.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(run("check", "--config", dataDir.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(run("serve", "--config", store.toString(), "--host", "127.0.0.1", "--port", "0"))
                .isEqualTo(ExitCodes.CONFIGURATION);

        String storeMistake = store + ":2:14: store.url: " + file + " is a file, not a directory, so the SQLite store "
                + file.resolve("buildhook.db") + " cannot be created in it: give store.url another path, or move "
                + file + " away";
        assertThat(err.toString().split(java.util.regex.Pattern.quote(storeMistake), -1)).as("by check and by serve: " + err)
                .hasSize(3);
        assertThat(err.toString())
                .contains(dataDir + ":1:11: data-dir: " + file + " is a file, not a directory, so the data folder " + file
                        + " cannot be there: give data-dir another path, or move " + file + " away")
                .doesNotContain("already exists").doesNotContain("Exception");
        try (var left = Files.list(dir)) {
            assertThat(left).as("nothing written").containsExactlyInAnyOrder(file, store, dataDir);
        }
    }

    /** A data-dir that cannot be made is said at data-dir, as every other mistake of the file. */
    @Test
    void serveOnADataDirItCannotMakeSaysSoAtTheDataDirKey() throws IOException {
        // /proc takes no new folder, whoever asks (tests may run as root, for whom no mode is closed).
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: /proc/buildhook-no-such/data\n");

        int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "0");

        assertThat(code).isEqualTo(ExitCodes.CONFIGURATION);
        // Said when the configuration is read (as check says it), before any secret is generated.
        assertThat(err.toString()).contains(config + ":1:11: data-dir: buildhook cannot write in /proc (it is on a"
                + " proc file system, the kernel's, where no file can be created), so the data folder"
                + " /proc/buildhook-no-such/data cannot be created in it: give data-dir a folder the user buildhook"
                + " runs as can write in").doesNotContain("Exception");
    }

    /**
     * A start that fails after the configuration was loaded (here: PostgreSQL does not answer) writes
     * no secret file and tells of none, in a new data folder as in one that was there, whose own files
     * stay as they were (tryout13 F6).
     */
    @Test
    void serveThatCannotReachItsStoreWritesNoSecretAndAnnouncesNone() throws IOException {
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        String store = "store: {url: 'jdbc:postgresql://127.0.0.1:" + closed + "/buildhook?user=u&password=p'}";
        Path fresh = Files.writeString(dir.resolve("fresh.yaml"), "data-dir: new/data\nadmin: {token: generate}\n"
                + store + "\n");
        Path existing = Files.createDirectories(dir.resolve("existing"));
        Files.writeString(existing.resolve("notes.txt"), "the operator's\n");
        Files.writeString(existing.resolve("admin-token"), "an-admin-token-that-was-there-0123456789\n");
        Path keep = Files.writeString(dir.resolve("keep.yaml"), "data-dir: existing\nadmin: {token: generate}\n"
                + store + "\n");

        assertThat(run("serve", "--config", fresh.toString(), "--host", "127.0.0.1", "--port", "0"))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("serve", "--config", keep.toString(), "--host", "127.0.0.1", "--port", "0"))
                .isEqualTo(ExitCodes.UNAVAILABLE);

        assertThat(err.toString()).contains("cannot connect to the PostgreSQL store")
                .doesNotContain("generated a new secret");
        assertThat(dir.resolve("new/data/webhook-secret")).doesNotExist();
        assertThat(dir.resolve("new/data/admin-token")).doesNotExist();
        assertThat(existing.resolve("webhook-secret")).doesNotExist();
        assertThat(existing.resolve("admin-token")).as("a secret file that was there")
                .hasContent("an-admin-token-that-was-there-0123456789");
        assertThat(existing.resolve("notes.txt")).hasContent("the operator's");
        String reason = err.toString().lines().filter(l -> l.startsWith("buildhook: cannot start")).findFirst()
                .orElseThrow();
        assertThat(reason).as("the driver's reason once, without a doubled stop (found by tryout8)")
                .contains("Connection to 127.0.0.1:" + closed + " refused")
                .doesNotContain(".;").doesNotEndWith(": Connection refused");
    }

    /**
     * tryout15 F3: check said "ok" for a configuration whose PostgreSQL store could not be reached (a
     * wrong password, a closed port, a misspelt currentSchema), which the start then refused: check
     * asks PostgreSQL and warns, without failing (it may run where the database is not reachable).
     */
    @Test
    void checkWarnsWhenThePostgresqlStoreCannotBeReachedOrHasNoSchema() throws Exception {
        int closed;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = socket.getLocalPort();
        }
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nstore: {url: 'jdbc:postgresql://"
                + "127.0.0.1:" + closed + "/buildhook?user=u&password=the-password'}\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        // Not a plain "ok" first and the warning after it (tryout15 F9).
        assertThat(out.toString()).startsWith(config + ": ok (1 endpoint(s)), but 'serve' would not start now: see the"
                + " warning below\n");
        assertThat(out.toString()).contains(config + ": warning: cannot connect to the PostgreSQL store"
                + " jdbc:postgresql://127.0.0.1:" + closed + "/buildhook?(parameters hidden): Connection to 127.0.0.1:"
                + closed + " refused").contains("'serve' would not start now").doesNotContain("the-password");

        String pg = System.getenv("BUILDHOOK_TEST_PG_URL");
        if (pg == null || pg.isBlank()) {
            // As the other PostgreSQL tests: never skipped on CI, where the database is there.
            assertThat(System.getenv("CI")).as("BUILDHOOK_TEST_PG_URL is not set on CI").isNotEqualToIgnoringCase("true");
            return;
        }
        Path typo = Files.writeString(dir.resolve("typo.yaml"), "data-dir: data\nstore: {url: '" + pg
                + (pg.contains("?") ? "&" : "?") + "currentSchema=tryout15_no_such_schema'}\n");
        assertThat(run("check", "--config", typo.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(typo + ": warning: the PostgreSQL store")
                .contains("has no schema to create its tables in: no schema of its search path tryout15_no_such_schema");

        // tryout20 F4: a wrong password is PostgreSQL answering: no "check that PostgreSQL runs", and not a store
        // this check "may ignore" as one it cannot reach from where it runs.
        Path wrong = Files.writeString(dir.resolve("wrong.yaml"), "data-dir: data\nstore: {url: '"
                + pg.replaceFirst("password=[^&]*", "password=Wrong-0xBAD") + "'}\n");
        out.getBuffer().setLength(0);
        assertThat(run("check", "--config", wrong.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(wrong + ": warning: cannot connect to the PostgreSQL store")
                .contains("PostgreSQL answered there and refused the login").doesNotContain("may ignore")
                .doesNotContain("check that PostgreSQL runs").doesNotContain("Wrong-0xBAD");

        // review15: a role that may not create in its schema, which every start needs (the schema's owner
        // revokes the privilege from itself here, as it may).
        String schema = "nocreate_" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg); java.sql.Statement sql = c.createStatement()) {
            sql.execute("CREATE SCHEMA " + schema);
            sql.execute("REVOKE CREATE ON SCHEMA " + schema + " FROM CURRENT_USER");
        }
        try {
            Path locked = Files.writeString(dir.resolve("locked.yaml"), "data-dir: data\nstore: {url: '" + pg
                    + (pg.contains("?") ? "&" : "?") + "currentSchema=" + schema + "'}\n");
            assertThat(run("check", "--config", locked.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(out.toString()).contains(locked + ": warning: the PostgreSQL store")
                    .contains("cannot create its tables in schema " + schema + ": the role ")
                    .contains("has no CREATE privilege on it").contains("GRANT CREATE ON SCHEMA " + schema + " TO ");
        } finally {
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg);
                    java.sql.Statement sql = c.createStatement()) {
                sql.execute("DROP SCHEMA " + schema + " CASCADE");
            }
        }

        Path good = Files.writeString(dir.resolve("good.yaml"), "data-dir: data\nstore: {url: '" + pg + "'}\n");
        assertThat(run("check", "--config", good.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        String forGood = out.toString().substring(out.toString().indexOf(good + ": ok"));
        assertThat(forGood).startsWith(good + ": ok (1 endpoint(s))\n").doesNotContain("warning: cannot connect")
                .doesNotContain("has no schema").doesNotContain("no CREATE privilege");
    }

    /**
     * tryout15 F9: check named a configuration given as a relative path by its absolute path on its
     * first line and as given on the others (notes, warnings, mistakes).
     */
    @Test
    void checkNamesTheConfigurationAsItWasGivenOnEveryLine() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nadmin: {token: generate}\n");
        Path relative = Path.of("").toAbsolutePath().relativize(config);
        assertThat(relative.isAbsolute()).isFalse();

        assertThat(run("check", "--config", relative.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString().lines()).as(out.toString()).hasSizeGreaterThanOrEqualTo(3)
                .allSatisfy(line -> assertThat(line).startsWith(relative + ": "))
                .first().asString().isEqualTo(relative + ": ok (1 endpoint(s))");
    }

    @Test
    void serveOnATakenPortNamesTheAddressAndWhatToChange() throws IOException {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n");

            int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port",
                    String.valueOf(taken.getLocalPort()));

            assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(err.toString())
                    .contains("cannot listen on 127.0.0.1:" + taken.getLocalPort())
                    .contains("--port N or server.port")
                    .doesNotContain("Exception");
        }
    }

    @Test
    void serveWithAPortOutOfRangeIsAUsageErrorInWordsNotAStackTrace() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n");

        int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "80000");

        assertThat(code).isEqualTo(ExitCodes.USAGE);
        assertThat(err.toString()).contains("--port: must be between 0 and 65535").contains("got 80000")
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void serveOnAHostNameThatDoesNotResolveSaysSoAndWhatToSet() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n");

        // RFC 6761: names under .invalid never resolve.
        int code = run("serve", "--config", config.toString(), "--host", "buildhook-test.invalid", "--port", "0");

        assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).contains("cannot listen on buildhook-test.invalid:0")
                .contains("neither an IP address nor a host name this machine can resolve")
                .contains("--host or server.host").doesNotContain("Exception");
    }

    /**
     * check says what serve would say of a server.host it cannot listen on, at the value's place (found
     * by try-out 7: check said ok, serve refused to start). A value that is no address at all is a
     * mistake; a host name that does not resolve now a warning: serve looks it up again when it starts,
     * maybe on another machine or once DNS knows it.
     */
    @Test
    void checkSaysAtItsPlaceAServerHostThatServeCouldNotListenOn() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nserver:\n  port: 8080\n  host: 300.1.1.1\n");

        assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.FAILED);

        assertThat(err.toString()).contains(config + ":4:9: server.host: '300.1.1.1' is neither an IP address nor a"
                + " host name (an IPv4 address is four numbers from 0 to 255, like 192.168.1.10), so serve cannot"
                + " listen on it; set server.host to an address of this machine, like 0.0.0.0 (every address) or"
                + " 127.0.0.1 (this machine only)").contains("1 mistake(s) found");

        Files.writeString(config, "data-dir: data\nserver: {host: 'http://0.0.0.0:8080/'}\n");
        err.getBuffer().setLength(0);
        assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains(config + ":2:16: server.host: 'http://0.0.0.0:8080/' is neither an IP"
                + " address nor a host name (a host, not a URL: no scheme, port or path)");
    }

    /**
     * check says what serve would refuse: a data-dir buildhook cannot write in (tryout8, F12: {@code
     * data-dir: /sys/kernel} was "ok", then serve refused at start with "permission denied"). The
     * kernel's file systems refuse files even to root, whose permissions allow everything else; so
     * does a missing data-dir that would have to be made there.
     */
    @Test
    void checkSaysAtItsPlaceADataDirBuildhookCannotWriteIn() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: /sys/kernel\n");

        assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.FAILED);

        assertThat(err.toString()).contains(config + ":1:11: data-dir: buildhook cannot write in /sys/kernel (it is on"
                + " a sysfs file system, the kernel's, where no file can be created), so the data folder /sys/kernel"
                + " cannot be there: give data-dir a folder the user buildhook runs as can write in, on a disk (e.g."
                + " /var/lib/buildhook)").contains("1 mistake(s) found");
        assertThat(out.toString()).doesNotContain("will be generated at first start in /sys/kernel");

        Files.writeString(config, "data-dir: /proc/buildhook-data\n");
        err.getBuffer().setLength(0);
        assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains(config + ":1:11: data-dir: buildhook cannot write in /proc (it is on a proc"
                + " file system, the kernel's, where no file can be created), so the data folder /proc/buildhook-data"
                + " cannot be created in it");

        Files.writeString(config, "data-dir: data\n");
        err.getBuffer().setLength(0);
        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        // The commands that only read the configuration need not write the server's data: an operator's
        // 'buildhook jobs' goes on to ask the server (none listens here).
        Files.writeString(config, "data-dir: /sys/kernel\nadmin: {token: {value: an-admin-token-0123456789abcdef}}\n");
        err.getBuffer().setLength(0);
        assertThat(run("jobs", "--config", config.toString(), "--url", "http://127.0.0.1:1/"))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).doesNotContain("cannot write in");
    }

    /**
     * tryout47b F9: with the shipped configuration (data-dir left at ./data) run from another folder, check said ok
     * about a store that was not the server's ('does not exist yet: serve creates a new store') without a word that
     * ./data is the working directory's; 'jobs' says it. Now check says it too, with the systemd unit's folder.
     */
    @Test
    void checkSaysADefaultDataDirIsTheWorkingDirectorysAndThatServeElsewhereUsesAnother() throws IOException {
        Path cwd = Path.of("").toAbsolutePath();
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "server: {port: 8080}\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(config + ": note: data-dir is the default ./data: relative to the working"
                + " directory (" + cwd + "), not to the configuration's folder: what is checked below is "
                + cwd.resolve("data") + ", and a 'serve' started in another folder (under systemd, the unit's"
                + " WorkingDirectory=/var/lib/buildhook) uses that folder's ./data instead. Run this command from the"
                + " folder 'serve' ran in, or give data-dir an absolute path in the configuration");

        Files.writeString(config, "data-dir: " + dir.resolve("data") + "\n");
        out.getBuffer().setLength(0);
        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).doesNotContain("note: data-dir");

        // tryout50 F1: an absolute data-dir that happens to be the working directory's ./data is written, not the
        // default: the note (and its advice to give data-dir an absolute path) is not said.
        Files.writeString(config, "data-dir: " + cwd.resolve("data") + "\n");
        out.getBuffer().setLength(0);
        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(out.toString()).contains(cwd.resolve("data").toString()).doesNotContain("note: data-dir");
    }

    /**
     * A data-dir on a file system mounted read-only names the likeliest cause when the folder is
     * writable from a shell: a service's sandbox (tryout18: Debian's tomcat10.service has
     * ProtectSystem=strict, so the WAR refused /var/lib/buildhook, made and owned by the Tomcat user,
     * advising "e.g. /var/lib/buildhook"). A real read-only bind mount of a folder of the test's
     * own; skipped where this process may not mount (not root, no CAP_SYS_ADMIN), except on CI.
     */
    @Test
    void checkSaysAReadOnlyDataDirMayBeAServiceSandboxAndHowToOpenIt() throws Exception {
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        mayMount(mount("--bind", readOnly.toString(), readOnly.toString()),
                "this process may not mount");
        try {
            mayMount(mount("-o", "remount,bind,ro", readOnly.toString()),
                    "this process may not remount read-only");
            Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + readOnly + "\n");

            // tryout53 F2: it exited 1 ("mistakes found") while saying there is none; serve exits 3 for it.
            assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
            err.getBuffer().setLength(0);
            assertThat(run("check", "--strict", "--config", config.toString())).isEqualTo(ExitCodes.UNAVAILABLE);

            assertThat(err.toString()).contains(config + ":1:11: data-dir: buildhook cannot write in " + readOnly
                    + " (its file system is mounted read-only for buildhook's process), so the data folder " + readOnly
                    + " cannot be there: the configuration is right, the mount is not: check it (findmnt -T " + readOnly
                    + ") and mount it read-write (a container's volume without :ro); if the folder is writable from a"
                    + " shell, the service's sandbox makes it read-only: systemd's ProtectSystem=strict (Debian's"
                    + " tomcat10.service sets it) leaves writable only the unit's ReadWritePaths=, so add the folder"
                    + " there with systemctl edit")
                    .contains("'serve' would not start: the configuration has no mistake, but buildhook cannot write in"
                            + " 1 folder(s) the configuration names")
                    .doesNotContain("give data-dir").doesNotContain("mistake(s) found");

            // With a mistake of the file besides, both are counted apart.
            Files.writeString(config, "data-dir: " + readOnly + "\nrunner: {threads: many}\n");
            err.getBuffer().setLength(0);
            assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.FAILED);
            assertThat(err.toString()).contains("1 mistake(s) found, and buildhook cannot write in 1 folder(s) the"
                    + " configuration names");
        } finally {
            new ProcessBuilder("umount", readOnly.toString()).inheritIO().start().waitFor();
        }
    }

    /**
     * serve on a data folder mounted read-only says the folder's mount is at fault, not the configuration, which is
     * right (tryout31 F4: headed "the configuration has mistakes" and advised giving data-dir another folder); same
     * exit code, no stack trace. A real read-only bind mount: chmod does not stop root.
     */
    @Test
    void serveOnAReadOnlyDataDirSaysTheMountIsWrongNotTheConfiguration() throws Exception {
        Path readOnly = Files.createDirectory(dir.resolve("read-only"));
        mayMount(mount("--bind", readOnly.toString(), readOnly.toString()), "this process may not mount");
        try {
            mayMount(mount("-o", "remount,bind,ro", readOnly.toString()), "this process may not remount read-only");
            Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + readOnly + "\n");

            int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "0");

            assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(err.toString()).contains("cannot start: the configuration is right, but buildhook cannot write"
                    + " in a folder it names:\n" + config + ":1:11: data-dir: buildhook cannot write in " + readOnly
                    + " (its file system is mounted read-only for buildhook's process)")
                    .contains("the mount is not: check it (findmnt -T " + readOnly + ") and mount it read-write")
                    .doesNotContain("has mistakes").doesNotContain("give data-dir").doesNotContain("Exception");
        } finally {
            new ProcessBuilder("umount", readOnly.toString()).inheritIO().start().waitFor();
        }
    }

    /**
     * A data folder its owner and mode let buildhook's user write in, that still refuses it (an immutable folder, which
     * refuses even root; chattr +i on the test's own folder), is the folder's fault, not the configuration's, and not
     * a matter of chown: serve says so, with the flag to clear. Fails on CI where chattr cannot set the flag.
     */
    @Test
    void serveOnAnImmutableDataDirSaysTheFolderIsWrongNotTheConfiguration() throws Exception {
        Path immutable = Files.createDirectory(dir.resolve("immutable"));
        boolean set = new ProcessBuilder("chattr", "+i", immutable.toString()).redirectErrorStream(true).start()
                .waitFor() == 0;
        try {
            mayMount(set && !Files.isWritable(immutable), "chattr +i did not make the folder immutable here");
            Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + immutable + "\n");

            int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "0");

            assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(err.toString()).contains("cannot start: the configuration is right, but buildhook cannot write"
                    + " in a folder it names:\n" + config + ":1:11: data-dir: buildhook cannot write in " + immutable
                    + " (the user " + System.getProperty("user.name") + ", which buildhook runs as, may not create files"
                    + " in it, although its owner and mode allow it (its owner is ")
                    .contains("the folder is likely immutable (lsattr -d " + immutable + " shows an i)")
                    .contains("the configuration is right, the folder is not: clear the flag (chattr -i " + immutable)
                    .doesNotContain("has mistakes").doesNotContain("Exception");
        } finally {
            new ProcessBuilder("chattr", "-i", immutable.toString()).inheritIO().start().waitFor();
        }
    }

    /**
     * A data-dir bind-mounted writable inside a read-only tree is writable, and check says ok: that is
     * how systemd's ProtectSystem=strict with ReadWritePaths= (buildhook's own unit, Debian's tomcat10
     * with a drop-in) opens it. tryout18: it was refused as "mounted read-only", Java's
     * FileStore.isReadOnly() reading the read-only entry of the tree's device. Here the tree is a tmpfs
     * of the test's own, remounted read-only (per mount, not its superblock, so the bind stays
     * writable); skipped where this process may not mount, except on CI.
     */
    @Test
    void checkAcceptsADataDirBindMountedWritableInsideAReadOnlyTree() throws Exception {
        Path tree = Files.createDirectory(dir.resolve("tree"));
        mayMount(mount("-t", "tmpfs", "tmpfs", tree.toString()),
                "this process may not mount");
        Path data = tree.resolve("data");
        try {
            Files.createDirectory(data);
            mayMount(mount("--bind", data.toString(), data.toString())
                    && mount("-o", "remount,bind,ro", tree.toString()), "this process may not remount read-only");
            assertThat(Files.isWritable(tree)).as("the tree is read-only").isFalse();
            Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + data + "\n");

            assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);
            assertThat(err.toString()).doesNotContain("cannot write in");
        } finally {
            new ProcessBuilder("umount", data.toString()).inheritIO().start().waitFor();
            new ProcessBuilder("umount", tree.toString()).inheritIO().start().waitFor();
        }
    }

    /**
     * Goes on when {@code mounted}; otherwise the test fails on CI ({@code CI=true}, root: it must mount
     * there) and is skipped elsewhere (not root, no CAP_SYS_ADMIN).
     */
    private static void mayMount(boolean mounted, String why) {
        if (!mounted && "true".equalsIgnoreCase(System.getenv("CI"))) {
            org.assertj.core.api.Assertions.fail(why + ", and CI runs as root: it must");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(mounted, why);
    }

    private static boolean mount(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("mount"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        return p.waitFor() == 0;
    }

    @Test
    void checkWarnsAboutAServerHostNameThatDoesNotResolveNowAndAcceptsOnesThatDo() throws IOException {
        // RFC 6761: names under .invalid never resolve.
        Path config = Files.writeString(dir.resolve("buildhook.yaml"),
                "data-dir: data\nserver:\n  host: buildhook-test.invalid\n");

        assertThat(run("check", "--config", config.toString())).as(err.toString()).isEqualTo(ExitCodes.OK);

        assertThat(out.toString()).contains(config + ":3:9: warning: server.host: 'buildhook-test.invalid' is neither"
                + " an IP address nor a host name this machine can resolve now; serve looks it up when it starts and"
                + " cannot start unless it resolves then");

        for (String host : List.of("127.0.0.1", "0.0.0.0", "localhost", "::1", "127.1")) {
            Files.writeString(config, "data-dir: data\nserver:\n  host: '" + host + "'\n");
            out.getBuffer().setLength(0);
            assertThat(run("check", "--config", config.toString())).as(host + ": " + err).isEqualTo(ExitCodes.OK);
            assertThat(out.toString()).as(host).doesNotContain("server.host");
        }
    }

    @Test
    void serveOnAnAddressThisMachineDoesNotHaveDoesNotBlameAnotherProgram() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n");

        // RFC 5737 TEST-NET-1: documentation only, assigned to no machine.
        int code = run("serve", "--config", config.toString(), "--host", "192.0.2.1", "--port", "0");

        assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).contains("cannot listen on 192.0.2.1:0")
                .contains("'192.0.2.1' is not an address of this machine").contains("--host or server.host")
                .doesNotContain("another program").doesNotContain("Exception");
    }

    /**
     * A taken port on an address this machine has is blamed on the program that has it. Told apart
     * from an address the machine does not have by asking its interfaces, not by the bind error's text
     * (the C library's, which follows the locale).
     */
    @Test
    void serveOnATakenPortSaysAnotherProgramHasIt() throws IOException {
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: " + dir.resolve("data") + "\n");
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
                java.net.InetAddress.getByName("127.0.0.1"))) {
            int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port",
                    String.valueOf(taken.getLocalPort()));

            assertThat(code).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(err.toString()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort())
                    .contains("another program (or another buildhook) has it").contains("--port N or server.port")
                    .doesNotContain("not an address of this machine").doesNotContain("Exception");
        }
    }

    /**
     * review48 F3: a file the configuration names that is not there yet (a secret file or a rules file another service
     * writes after boot, a mount that comes later), or the configuration file itself, is no mistake of its text:
     * {@code serve} exits 3, which the systemd unit restarts, not 78 (a mistake, never restarted). Something that is
     * there but is no file is a mistake (78).
     */
    @Test
    void serveExits3ForAFileNotThereYetAnd78ForAMistake() throws IOException {
        Path noSecret = Files.writeString(dir.resolve("no-secret.yaml"), "data-dir: data\nendpoints:\n  fleet:\n"
                + "    secrets: [{file: " + dir.resolve("not-yet/secret") + "}]\n");
        Path noRules = Files.writeString(dir.resolve("no-rules.yaml"), "data-dir: data\nrules: not-yet-rules.yaml\n");
        Files.createDirectories(dir.resolve("a-folder"));
        Path folderRules = Files.writeString(dir.resolve("folder-rules.yaml"), "data-dir: data\nrules: a-folder\n");

        assertThat(run("serve", "--config", noSecret.toString(), "--host", "127.0.0.1", "--port", "0"))
                .as(err.toString()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("serve", "--config", noRules.toString(), "--host", "127.0.0.1", "--port", "0"))
                .as(err.toString()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("serve", "--config", dir.resolve("no-such.yaml").toString(), "--host", "127.0.0.1", "--port",
                "0")).as(err.toString()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(run("serve", "--config", folderRules.toString(), "--host", "127.0.0.1", "--port", "0"))
                .as(err.toString()).isEqualTo(ExitCodes.CONFIGURATION);
        assertThat(err.toString()).contains("not-yet/secret not found").contains("not-yet-rules.yaml not found")
                .contains("configuration file not found").doesNotContain("Exception");
    }

    /**
     * fix55b (fix53b's left): {@code check} exited 1 ("mistakes found") for a configuration whose only problem is a file
     * it names that is not there (an endpoint's secret file, the configuration file itself, a keystore), while its
     * {@code --help} says 3 for a file that cannot be read and {@code serve} exits 3 for it. Now 3 for each, 1 as soon as
     * a real mistake is there besides; a keystore that is not there stops {@code serve} with 3 too (was 78).
     */
    @Test
    void checkExits3ForAFileNotThereAnd1WithAMistakeBesides() throws IOException {
        Path noSecret = Files.writeString(dir.resolve("no-secret.yaml"), "data-dir: data\nendpoints:\n  fleet:\n"
                + "    secrets: [{file: " + dir.resolve("not-yet/secret") + "}]\n");
        Path noRules = Files.writeString(dir.resolve("no-rules.yaml"), "data-dir: data\nrules: not-yet-rules.yaml\n");
        Path secret = Files.writeString(dir.resolve("secret"), "s3cret\n");
        Path noKeystore = Files.writeString(dir.resolve("no-keystore.yaml"), "data-dir: data\nserver:\n  tls:\n"
                + "    keystore: not-yet.p12\n    password: {file: secret}\n");
        Path withAMistake = Files.writeString(dir.resolve("mistake-too.yaml"), "data-dir: data\nendpoints:\n  fleet:\n"
                + "    secrets: [{file: " + dir.resolve("not-yet/secret") + "}]\nrunner: {threads: many}\n");

        for (Path config : List.of(noSecret, noRules, noKeystore, dir.resolve("no-such.yaml"))) {
            err.getBuffer().setLength(0);
            assertThat(run("check", "--config", config.toString())).as(config + ": " + err).isEqualTo(ExitCodes.UNAVAILABLE);
            assertThat(err.toString()).as(config.toString()).contains("'serve' would not start: the configuration has no"
                    + " mistake, but 1 file(s) named are not there or cannot be read (see above)")
                    .doesNotContain("mistake(s) found");
        }
        assertThat(run("check", "--strict", "--config", noSecret.toString())).isEqualTo(ExitCodes.UNAVAILABLE);
        err.getBuffer().setLength(0);
        assertThat(run("check", "--config", withAMistake.toString())).as(err.toString()).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains("not-yet/secret not found").contains("1 mistake(s) found, and 1 file(s)"
                + " named are not there or cannot be read (see above)");
        err.getBuffer().setLength(0);
        assertThat(run("check", "--rules", dir.resolve("no-such-rules.yaml").toString()))
                .isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).contains("no mistake found, but 1 file(s) named are not there or cannot be read")
                .doesNotContain("'serve'");
        // serve agrees, also for the keystore.
        err.getBuffer().setLength(0);
        assertThat(run("serve", "--config", noKeystore.toString(), "--host", "127.0.0.1", "--port", "0"))
                .as(err.toString()).isEqualTo(ExitCodes.UNAVAILABLE);
        assertThat(err.toString()).contains("keystore " + dir.resolve("not-yet.p12") + " not found");
        assertThat(secret).exists();
    }

    @Test
    void serveRefusedForAMistakeInItsRulesFileWritesNothing() throws IOException {
        Path rules = rulesWithATypo();
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "rules: rules.yaml",
                "admin:",
                "  token: generate",
                ""));

        int code = run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "0");

        assertThat(code).isEqualTo(ExitCodes.CONFIGURATION);
        assertThat(err.toString()).contains("rules.yaml:4:7").contains("did you mean 'command'")
                .doesNotContain("Exception");
        try (var left = Files.list(dir)) {
            assertThat(left).as("no data-dir, no webhook-secret, admin-token or buildhook.db")
                    .containsExactlyInAnyOrder(config, rules);
        }
    }

    /**
     * A keystore password that does not open the keystore used to pass {@code check} and stop
     * {@code serve} with the JDK's {@code failed to decrypt safe contents entry: BadPaddingException …}.
     */
    @Test
    void checkAndServeSayAWrongKeystorePasswordAtItsKeyAndServeWritesNothing() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "buildhook", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-storetype", "PKCS12", "-keystore", keystore.toString(),
                "-storepass", "rightpass").redirectErrorStream(true).start();
        keytool.getInputStream().readAllBytes();
        assertThat(keytool.waitFor()).isZero();
        Path pass = Files.writeString(dir.resolve("keystore-pass"), "wrongpass\n");
        Path config = Files.writeString(dir.resolve("buildhook.yaml"), String.join("\n",
                "data-dir: data",
                "server:",
                "  tls:",
                "    keystore: server.p12",
                "    password: {file: keystore-pass}",
                ""));
        String expected = config + ":5:15: server.tls.password: does not open keystore " + keystore
                + ": the password is wrong";

        assertThat(run("check", "--config", config.toString())).isEqualTo(ExitCodes.FAILED);
        assertThat(err.toString()).contains(expected).doesNotContain("Exception").doesNotContain("wrongpass");
        assertThat(run("serve", "--config", config.toString(), "--host", "127.0.0.1", "--port", "0"))
                .isEqualTo(ExitCodes.CONFIGURATION);
        assertThat(err.toString()).contains("the configuration has mistakes").contains(expected)
                .doesNotContain("BadPadding").doesNotContain("decrypt");
        try (var left = Files.list(dir)) {
            assertThat(left).as("no data folder, no generated secret").containsExactlyInAnyOrder(config, keystore, pass);
        }
    }

    @Test
    void checkOfTheEmbeddedDefaultsWritesNothingAndSaysTheSecretIsGeneratedAtFirstStart() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        CommandLine cl = new CommandLine(new CheckCommand(empty));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));

        int code = cl.execute();

        assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);
        assertThat(empty).isEmptyDirectory();
        assertThat(out.toString())
                .contains("checking the embedded defaults")
                .contains("embedded defaults: ok (1 endpoint(s))")
                .contains("embedded defaults: warning: the secret of endpoint 'default' will be generated at first "
                        + "start in " + empty.resolve("data/webhook-secret"));
    }

    @Test
    void checkOfAFileThatAsksForGeneratedSecretsWritesNothingEither() throws IOException {
        Path yaml = Files.writeString(dir.resolve("buildhook.yaml"), "data-dir: data\nadmin:\n  token: generate\n");

        int code = run("check", "--config", yaml.toString());

        assertThat(code).as(err.toString()).isEqualTo(ExitCodes.OK);
        try (var left = Files.list(dir)) {
            assertThat(left).containsExactly(yaml);
        }
        assertThat(out.toString()).contains(yaml + ": ok (1 endpoint(s))")
                .contains("the secret of the admin API will be generated at first start in "
                        + dir.resolve("data/admin-token"));
    }

    @Test
    void checkRefusesOneSecretAsAdminTokenAndEndpointSecretNamingBothKeysNeverTheValue() throws IOException {
        Path yaml = TestConfig.writeWithSecret(dir, "shared-by-mistake\n", "admin: {token: {file: secret}}");

        int code = run("check", "--config", yaml.toString());

        assertThat(code).isNotEqualTo(ExitCodes.OK);
        assertThat(err.toString()).contains(yaml + ":3:16: admin.token: the admin token is also the secret"
                + " endpoints.default.secrets[0] (" + yaml + ":2:33)").doesNotContain("shared-by-mistake");
        assertThat(out.toString()).doesNotContain("shared-by-mistake");
    }

    @Test
    void everyCommandHasHelpWithExamplesAndTheExitCodes() {
        for (String command : List.of("check", "send", "test", "deliveries", "jobs", "logs", "replay", "rerun",
                "cancel", "approve", "reject")) {
            out.getBuffer().setLength(0);
            assertThat(run(command, "--help")).isZero();
            assertThat(out.toString()).contains("Examples:").contains("Exit codes:");
        }
    }

    /**
     * Picocli wraps each description paragraph at the usage width and shows a command's first paragraph
     * alone in its parent's list; an example is printed as written. So a paragraph ends a sentence (a
     * line broken by hand is cut mid-sentence where picocli wraps it, and in the parent's list) and an
     * example fits the width whole.
     */
    @Test
    void everyHelpLineIsWholeInEveryCommandsHelpAndInItsParentsList() {
        List<String> cut = new ArrayList<>();
        List<CommandLine> commands = new ArrayList<>(List.of(BuildhookCommand.commandLine()));
        for (int i = 0; i < commands.size(); i++) {
            CommandLine command = commands.get(i);
            commands.addAll(command.getSubcommands().values());
            CommandLine.Model.UsageMessageSpec usage = command.getCommandSpec().usageMessage();
            String name = command.getCommandSpec().qualifiedName();
            for (String text : usage.description()) {
                String paragraph = text.replaceAll("^(%n)+|(%n)+$", "");
                if (!paragraph.isEmpty() && !paragraph.matches("(?s).*[.:)]")) {
                    cut.add(name + " description: " + paragraph);
                }
            }
            for (String line : usage.footer()) {
                if (line.startsWith(" ") && line.length() > usage.width()) {
                    cut.add(name + " example wider than " + usage.width() + ": " + line);
                } else if (!line.startsWith(" ") && !line.isEmpty() && !line.matches("(?s).*[.:)]")) {
                    cut.add(name + " footer: " + line);
                }
            }
        }
        assertThat(cut).isEmpty();
    }

    /**
     * Every help screen at 80 columns has the words it has unwrapped, each whole: picocli's own wrapping
     * also breaks after '.', ':' or ',' before a letter, so {@code send}'s usage line showed
     * {@code [PAYLOAD.} and {@code json]} on two lines and {@code check}'s description {@code file:} and
     * {@code line:column} (found by try-out 7); a usage line or an example copied from the help must work.
     */
    @Test
    void everyHelpScreenAt80ColumnsWrapsOnlyAtSpaces() {
        List<CommandLine> narrow = everyCommand(80);
        List<CommandLine> wide = everyCommand(1000);
        assertThat(narrow).hasSameSizeAs(wide).hasSizeGreaterThan(14);
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < narrow.size(); i++) {
            String name = narrow.get(i).getCommandSpec().qualifiedName();
            String help = narrow.get(i).getUsageMessage(CommandLine.Help.Ansi.OFF);
            List<String> words = List.of(help.trim().split("\\s+"));
            String unwrapped = wide.get(i).getUsageMessage(CommandLine.Help.Ansi.OFF);
            List<String> whole = List.of(unwrapped.trim().split("\\s+"));
            if (!words.equals(whole)) {
                List<String> cut = new ArrayList<>(words);
                cut.removeAll(whole);
                problems.add(name + ": words cut at the end of a line: " + cut);
            }
            help.lines().filter(line -> line.length() > 80).forEach(line -> problems.add(name + ": wider than 80: " + line));
        }
        assertThat(problems).isEmpty();
    }

    /** buildhook and all its subcommands, depth first, with help this many columns wide. */
    private static List<CommandLine> everyCommand(int width) {
        List<CommandLine> commands = new ArrayList<>();
        CommandLine top = BuildhookCommand.commandLine();
        top.setUsageHelpWidth(width);
        List<CommandLine> todo = new ArrayList<>(List.of(top));
        while (!todo.isEmpty()) {
            CommandLine command = todo.remove(0);
            commands.add(command);
            todo.addAll(0, command.getSubcommands().values());
        }
        return commands;
    }

    /** final18 F9: ATTEMPTS 2 of a job that succeeded at once after an attempt its node could not start. */
    @Test
    void jobsHelpSaysThatAttemptsCountsTheInterruptedOnesWhichUseNoRetry() {
        assertThat(run("jobs", "--help")).isZero();
        assertThat(out.toString().replaceAll("\\s+", " ")).contains("ATTEMPTS counts every attempt, those its node"
                + " cut short (INTERRUPTED: a stop, or a node that could not write its files) too, which use none"
                + " of the job's retries: 2 (1 interrupted). buildhook job show JOB lists each attempt with how it"
                + " ended.");
    }

    /** tryout28 F6: logs' --json (shared with every admin command) said "Print the API's JSON answer"; a log is text. */
    @Test
    void logsHelpDoesNotPromiseJsonWhereTheApiAnswersText() {
        assertThat(run("logs", "--help")).isZero();
        String help = out.toString().replaceAll("\\s+", " ");
        assertThat(help).contains("--json " + LogsCommand.JSON_HELP).doesNotContain("JSON answer");
        out.getBuffer().setLength(0);
        assertThat(run("jobs", "--help")).isZero();
        assertThat(out.toString()).contains("Print the API's JSON answer instead of a table.");
    }

    @Test
    void versionNamesTheProductItsVersionAndTheCommitItWasBuiltFrom() {
        assertThat(run("--version")).isZero();
        assertThat(out.toString()).startsWith("buildhook " + org.buildhook.servlet.BuildInfo.version() + " (commit "
                + org.buildhook.servlet.BuildInfo.revision() + ")\nJava ");
        assertThat(org.buildhook.servlet.BuildInfo.version()).isNotEqualTo("unknown");
    }
}
