package org.buildhook.distribution;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.buildhook.core.IoProblems;
import org.buildhook.core.Signer;
import org.buildhook.servlet.config.Ranges;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code buildhook send}: signs a payload's exact bytes and posts them the way JobServ does,
 * retrying after 1, 2 and 4 seconds while the answer is not 2xx.
 */
@Command(
        name = "send",
        mixinStandardHelpOptions = true,
        description = "Sign a JobServ payload and POST it like JobServ does (retries after 1, 2 and 4 s).",
        footer = {
            "",
            "Examples:",
            "  buildhook send http://localhost:8080/webhook --sample \\",
            "      --secret-file data/webhook-secret",
            "  buildhook send https://hooks.example.com/webhook/lmp build.json \\",
            "      --secret-env JOBSERV_SECRET",
            "",
            ExitCodes.SEND
        })
final class SendCommand implements Callable<Integer> {

    /** The top of {@code http.max-body}'s range (1 GiB): the largest payload {@code send} reads. */
    static final long LARGEST_BODY = Ranges.ALL.get("http.max-body").maxValue();

    /** JobServ's cadence: wait 1, 2, then 4 seconds between its four attempts. */
    static final List<Duration> JOBSERV_RETRY_DELAYS = List.of(Duration.ofSeconds(1), Duration.ofSeconds(2),
            Duration.ofSeconds(4));

    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "URL", converter = HttpUrlConverter.class,
            description = "The webhook URL, e.g. http://localhost:8080/webhook")
    URI url;

    @Parameters(index = "1", arity = "0..1", paramLabel = "PAYLOAD.json",
            description = "The file whose exact bytes are signed and sent.")
    Path payload;

    @Option(names = "--sample", description = "Send a built-in sample build (build 67, PASSED, containers-devel).")
    boolean sample;

    @ArgGroup(exclusive = true, multiplicity = "1")
    SecretSource secret;

    @Option(names = "--no-retry", description = "One attempt only.")
    boolean noRetry;

    @Option(names = "--timeout", defaultValue = "30s", paramLabel = "DURATION", converter = DurationConverter.class,
            description = "How long to wait for each answer (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    private final Sleeper sleeper;

    SendCommand() {
        this(Sleeper.REAL);
    }

    SendCommand(Sleeper sleeper) {
        this.sleeper = sleeper;
    }

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        byte[] body = body();
        String signature = Signer.sign(body, secret.read(System.getenv()));
        HttpClient client = HttpClient.newBuilder().connectTimeout(timeout).build();
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("X-JobServ-Sig", signature)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        List<Duration> delays = noRetry ? List.of() : JOBSERV_RETRY_DELAYS;
        for (int attempt = 0; ; attempt++) {
            int status = attemptOnce(client, request, out);
            if (status / 100 == 2) {
                return ExitCodes.OK;
            }
            if (status == UNTRUSTED) {
                // A certificate does not change within JobServ's 7 s: trying again only repeats this.
                out.println("not accepted: the server at " + url + " answered with a certificate this command does not"
                        + " trust; for a self-signed certificate or one of a private CA, give a trust store that holds it"
                        + " in JAVA_OPTS: JAVA_OPTS='-Djavax.net.ssl.trustStore=FILE -Djavax.net.ssl.trustStorePassword=PASSWORD'"
                        + " (docs/operations.md, Admin commands)");
                return ExitCodes.UNAVAILABLE;
            }
            if (attempt >= delays.size()) {
                // As documented: 1 when the server said no, 3 when it could not be reached at all.
                if (status == NO_ANSWER) {
                    out.println("not accepted after " + (attempt + 1) + " attempt(s): the server at " + url
                            + " could not be reached");
                    return ExitCodes.UNAVAILABLE;
                }
                // A 401 is the signature: the secret the command signed with is not the endpoint's (tryout21 F8.7).
                out.println("not accepted after " + (attempt + 1) + " attempt(s)" + (status == UNAUTHORIZED
                        ? ": the server refused the signature; check that " + secret.given()
                        + " holds the endpoint's secret (the server's secret of this endpoint, e.g. its"
                        + " <data-dir>/webhook-secret)" : ""));
                return ExitCodes.FAILED;
            }
            sleeper.sleep(delays.get(attempt));
        }
    }

    /** The server's answer to a body whose signature no secret of the endpoint matches. */
    private static final int UNAUTHORIZED = 401;
    /** {@link #attemptOnce}'s answer when no HTTP answer came (refused, unreachable, timed out). */
    private static final int NO_ANSWER = -1;
    /** {@link #attemptOnce}'s answer when the server's certificate is not trusted by this JVM. */
    private static final int UNTRUSTED = -2;

    /** The HTTP status of one attempt, printed with its body, or {@link #NO_ANSWER}. */
    private int attemptOnce(HttpClient client, HttpRequest request, PrintWriter out) throws InterruptedException {
        try {
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            // The answer of whatever server the URL names: its control characters escaped (escape27 F2).
            String text = TerminalText.escape(response.body().strip());
            out.println("HTTP " + response.statusCode() + " " + (text.length() > 500 ? text.substring(0, 500) : text));
            out.flush();
            return response.statusCode();
        } catch (javax.net.ssl.SSLHandshakeException e) {
            out.println("ERROR " + IoProblems.describe(e));
            out.flush();
            return UNTRUSTED;
        } catch (IOException e) {
            out.println("ERROR " + IoProblems.describe(e));
            out.flush();
            return NO_ANSWER;
        }
    }

    private byte[] body() {
        if (sample == (payload != null)) {
            throw new CommandFailure("give either a PAYLOAD.json file or --sample", ExitCodes.USAGE);
        }
        if (sample) {
            try (InputStream in = SendCommand.class.getResourceAsStream("sample-build.json")) {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new CommandFailure("the built-in sample is missing from this installation: " + IoProblems.describe(e), ExitCodes.UNAVAILABLE);
            }
        }
        // send reads no configuration: the largest body a server can be configured to take, so that the server decides
        // (its default's 5 MiB here refused a big build re-sent to a server whose http.max-body was raised for it:
        // review56 F5); one over the server's own http.max-body is answered 413. And no more than a quarter of its heap.
        return PayloadFile.read(payload, LARGEST_BODY, "the largest body a server can take (http.max-body at most): ");
    }

    /** Waiting between attempts; tests replace it. */
    interface Sleeper {
        Sleeper REAL = d -> Thread.sleep(d.toMillis());

        void sleep(Duration duration) throws InterruptedException;
    }
}
