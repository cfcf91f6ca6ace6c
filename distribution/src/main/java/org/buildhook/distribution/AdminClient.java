package org.buildhook.distribution;

import org.buildhook.core.IoProblems;
import org.buildhook.core.LogSafe;
import org.buildhook.servlet.FollowMarks;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.buildhook.runner.exec.ProcessIdentity;

/**
 * A small client of the admin API ({@code /api/…}): JSON in, JSON out, answers other than 2xx
 * turned into {@link CommandFailure}s with the server's message and a fitting exit code.
 */
final class AdminClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a connection to the server may take. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    /**
     * How long an answer may take: 30 s. A server waiting for a PostgreSQL that stopped answering answers {@code 503}
     * only after its own bound (six times store.connect-timeout, at least 30 s, docs/storage.md), so this command may
     * give up first: it then says the server took the request and may be waiting for its store, not that it may not
     * run (review47 F3). Not longer: after a server's stop line a follow asks the server how the job stands, and a
     * stopping server behind a proxy that holds the request would keep the command that long.
     */
    static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(30);

    private final URI base;
    private final String token;
    private final HttpClient http;
    /**
     * How many answers the server gave this command so far: a refused connection after one is a stop, and a
     * stopping {@code 503} is "again" only after an earlier one (review39 F4: the first request through a reverse
     * proxy's kept connection may get it).
     */
    private final java.util.concurrent.atomic.AtomicInteger answers = new java.util.concurrent.atomic.AtomicInteger();

    /** How long this client waits for an answer: {@link #ANSWER_TIMEOUT}, shorter in tests. */
    private final Duration answerTimeout;

    AdminClient(URI base, String token) {
        this(base, token, ANSWER_TIMEOUT);
    }

    /** As {@link #AdminClient(URI, String)}, waiting {@code answerTimeout} for each answer (tests). */
    AdminClient(URI base, String token, Duration answerTimeout) {
        this(base, token, answerTimeout, null);
    }

    /**
     * As {@link #AdminClient(URI, String, Duration)}, for a server whose process on this host is {@code process}
     * (null when not known): a request it gives no answer looks at that process ({@link #LOOK_AFTER}).
     */
    AdminClient(URI base, String token, Duration answerTimeout, ProcessIdentity process) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.token = token;
        this.answerTimeout = answerTimeout;
        this.process = process;
        this.http = httpClient(this.base);
    }

    /**
     * The HTTP client for {@code base}. For an {@code https} address, Java's default TLS (its trust store,
     * {@code javax.net.ssl.trustStore} …). For plain {@code http}, which never uses TLS (redirects are not followed),
     * a TLS context that was never initialised: the default one reads and parses the JDK's whole trust store
     * ({@code cacerts}, about 150 certificates), a sixth of an admin command's CPU (cli49), for nothing; a TLS
     * connection through it would fail ("SSLContext is not initialized"), never trust anything.
     */
    private static HttpClient httpClient(URI base) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(TIMEOUT);
        if ("http".equalsIgnoreCase(base.getScheme())) {
            try {
                builder.sslContext(javax.net.ssl.SSLContext.getInstance("TLS"))
                        .sslParameters(new javax.net.ssl.SSLParameters());
            } catch (java.security.NoSuchAlgorithmException e) {
                // Every Java has TLS; if not, the default context, as before.
            }
        }
        return builder.build();
    }

    /** The server's process on this host, or null when not known (another host, an address given with --url alone). */
    private final ProcessIdentity process;

    /**
     * How long a request to a server whose process on this host is known waits for its answer before it looks at the
     * process, and then between looks: 1 s. A stopped process answers nothing until SIGCONT, so waiting out the whole
     * {@link #ANSWER_TIMEOUT} tells the operator nothing more (tryout49 F7: 36 s, then a wrong guess). Not a look
     * before the request: a debugger's or tracer's stops (strace, a profiler) last moments, and a request sent then is
     * answered; the command says it is stopped only when {@link #STOPPED_LOOKS} looks in a row find it so.
     */
    static final Duration LOOK_AFTER = Duration.ofSeconds(1);
    /** How many looks in a row must find the server's process stopped before the command says so: 2. */
    static final int STOPPED_LOOKS = 2;

    /** The server's address, ending in {@code /}. */
    URI base() {
        return base;
    }

    JsonNode get(String path) {
        return json(send(request(path).GET().timeout(answerTimeout).build()));
    }

    /**
     * The server's {@code GET /healthz} when it says {@code "status":"degraded"} (it stores deliveries but
     * starts no jobs: it cannot write a folder they need), as {@code "degraded: <its error>"}; empty when it
     * says anything else or cannot be asked within 5 s. Never fails: it only adds a note to what a command
     * printed (tryout19 F1: a job waiting on such a node shows a bare QUEUED).
     */
    java.util.Optional<String> degraded() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("healthz")).GET()
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode health = r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
            return health != null && "degraded".equals(health.path("status").asText())
                    ? java.util.Optional.of("degraded: " + health.path("error").asText())
                    : java.util.Optional.empty();
        } catch (IOException | RuntimeException e) {
            return java.util.Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Optional.empty();
        }
    }

    /**
     * The server's {@code GET /healthz} (asked without the token, as a load balancer does) as it answered: its HTTP
     * status and its JSON ({@code {"status": "ok"|"degraded"|"unavailable"|"starting"|"stopping", "error": …}}).
     *
     * @throws CommandFailure with {@link ExitCodes#UNAVAILABLE} when the server cannot be reached, as every admin
     *                        command says it, or answers something that is not JSON
     */
    Health health() {
        HttpResponse<String> r = send(HttpRequest.newBuilder(base.resolve("healthz")).GET().timeout(TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
        return new Health(r.statusCode(), json(r));
    }

    /**
     * An answer of {@code GET /healthz}.
     *
     * @param httpStatus its HTTP status: 200 ({@code ok}, {@code degraded}) or 503
     * @param body       its JSON
     */
    record Health(int httpStatus, JsonNode body) {

        /** Its {@code status}: {@code ok}, {@code degraded}, {@code unavailable}, {@code starting}, {@code stopping}. */
        String status() {
            return body.path("status").asText("unknown");
        }

        /** Whether it says the server stores deliveries and starts jobs. */
        boolean ok() {
            return httpStatus == 200 && status().equals("ok");
        }
    }

    JsonNode delete(String path) {
        return json(send(request(path).DELETE().timeout(answerTimeout).build()));
    }

    JsonNode post(String path) {
        return json(send(request(path).POST(HttpRequest.BodyPublishers.noBody()).timeout(answerTimeout).build()));
    }

    /**
     * Copies a UTF-8 text answer (a log) to {@code out} as it arrives; no timeout, as following may last
     * long. Returns how many bytes the body had.
     *
     * @throws CommandFailure with {@link ExitCodes#UNAVAILABLE} when the server cannot be reached or the
     *                        connection ends in the middle of the answer (saying so, and what to do)
     */
    long copy(String path, Writer out) {
        return copy(path, out, null);
    }

    /**
     * As {@link #copy(String, Writer)}, and, when {@code raw} is not null, the answer's bytes as they came to
     * {@code raw} as well (each chunk before its text goes to {@code out}): a log that is not all UTF-8
     * (a tool's Latin-1, a binary) reaches a file or a pipe byte for byte, where its text would have had
     * U+FFFD for each byte that is not UTF-8.
     *
     * @param raw where the bytes of a 2xx answer go, or null; an error's body never goes there
     */
    long copy(String path, Writer out, java.io.OutputStream raw) {
        return copy(path, out, raw, null);
    }

    /**
     * As {@link #copy(String, Writer, java.io.OutputStream)}, for a follow asked with {@code mark=1}: when the answer
     * has a {@link FollowMarks#HEADER}, the server's own lines come without their mark, and {@code unmarked} is given
     * what took it off (which says whether the last line was the server's) before anything is read; else it is given
     * null (a server that does not mark, or an error's answer).
     *
     * @param unmarked told of each answer, or null to read the answer as it came
     */
    long copy(String path, Writer out, java.io.OutputStream raw,
            java.util.function.Consumer<FollowMarks.Unmarking> unmarked) {
        HttpResponse<InputStream> response = send(request(path).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        long[] bytes = {0};
        boolean[] answer = {false};
        String mark = response.statusCode() / 100 == 2 ? response.headers().firstValue(FollowMarks.HEADER).orElse(null)
                : null;
        InputStream sent = response.body();
        FollowMarks.Unmarking unmarking = unmarked == null || mark == null ? null
                : new FollowMarks.Unmarking(sent, mark);
        if (unmarked != null) {
            sent = unmarking == null ? sent : unmarking;
            unmarked.accept(unmarking);
        }
        // On a terminal, the lines the server wrote itself are shown as its notes (follow41).
        FollowedNotes serverLines = unmarking != null && raw instanceof FollowedNotes f ? f : null;
        InputStream counted = new java.io.FilterInputStream(sent) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                bytes[0] += b < 0 ? 0 : 1;
                if (b >= 0 && answer[0] && serverLines != null && unmarking.readBeganMarkedLine()) {
                    serverLines.serverLineBegins();
                }
                if (b >= 0 && answer[0] && raw != null) {
                    raw.write(b);
                    raw.flush();
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                bytes[0] += Math.max(0, n);
                if (n > 0 && answer[0] && serverLines != null && unmarking.readBeganMarkedLine()) {
                    serverLines.serverLineBegins();
                }
                if (n > 0 && answer[0] && raw != null) {
                    raw.write(buffer, offset, n);
                    raw.flush();
                }
                return n;
            }
        };
        try (InputStream body = counted; Reader in = new InputStreamReader(body, StandardCharsets.UTF_8)) {
            if (response.statusCode() / 100 != 2) {
                fail(response.statusCode(), new String(body.readAllBytes(), StandardCharsets.UTF_8));
            }
            answer[0] = true;
            char[] buffer = new char[8192];
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
            return bytes[0];
        } catch (IOException e) {
            // The answer had begun: the server went away in the middle of it (tryout12 F6).
            throw new CommandFailure("the connection to the server at " + base + " ended while reading " + path + " ("
                    + IoProblems.describe(e) + "): the server stopped or restarted, or the network cut the connection;"
                    + " what arrived is printed above. A job it was running is run again by its next start (or by"
                    + " another node); run the command again once the server answers", ExitCodes.UNAVAILABLE);
        }
    }

    /**
     * One answer of a log with its notes ({@code ?notes=1}): its bytes and its {@code X-Buildhook-Log-Notes} header
     * (null from a server that does not know it, whose answer is then the whole log).
     */
    record LogPage(byte[] bytes, String notes) {
    }

    /**
     * A short answer read whole: a page of a log ({@code jobs/ID/log?notes=1&from=N}), at most a few MiB. Its answer
     * is waited for as long as any other short request's ({@link #ANSWER_TIMEOUT}): {@code logs -f} on a terminal asks
     * one about each line that begins like buildhook's note, in the middle of the follow, and a server that took the ask
     * and gave no answer (stopping behind a proxy, stalled) held the follow, and the command, for good.
     *
     * @throws CommandFailure as {@link #copy(String, Writer)} does, and when no answer came within the answer timeout
     */
    LogPage logPage(String path) {
        HttpResponse<byte[]> response = send(request(path).GET().timeout(answerTimeout).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (response.statusCode() / 100 != 2) {
            fail(response.statusCode(), new String(response.body(), StandardCharsets.UTF_8));
        }
        return new LogPage(response.body(), response.headers().firstValue("X-Buildhook-Log-Notes").orElse(null));
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve("api/" + path)).header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
    }

    private HttpResponse<String> send(HttpRequest request) {
        HttpResponse<String> response = send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            fail(response.statusCode(), response.body());
        }
        return response;
    }

    /**
     * Sends {@code request}; when the server's process on this host is known, looks at it each {@link #LOOK_AFTER}
     * while no answer came, and fails as soon as {@link #STOPPED_LOOKS} looks in a row find it stopped.
     */
    private <T> HttpResponse<T> exchange(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        if (process == null) {
            return http.send(request, handler);
        }
        java.util.concurrent.CompletableFuture<HttpResponse<T>> answer = http.sendAsync(request, handler);
        int stoppedLooks = 0;
        while (true) {
            try {
                return answer.get(LOOK_AFTER.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                stoppedLooks = process.isStopped() ? stoppedLooks + 1 : 0;
                if (stoppedLooks >= STOPPED_LOOKS) {
                    answer.cancel(true);
                    throw new CommandFailure(noAnswer(request, null) + ProcessIdentity.stoppedWords(process.pid()) + "."
                            + (isRead(request) ? " Ask again once it runs"
                                    : " The change asked for (a re-run, a replay, a cancel, an approval) waits in its"
                                            + " connection and may be made when it runs again: look (buildhook jobs)"
                                            + " before asking again"),
                            ExitCodes.UNAVAILABLE);
                }
            } catch (java.util.concurrent.ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IOException io) {
                    throw io;
                }
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                throw new IOException(cause);
            } catch (InterruptedException e) {
                answer.cancel(true);
                throw e;
            }
        }
    }

    /** Whether {@code request} only reads (GET, HEAD): it changes nothing on the server. */
    private static boolean isRead(HttpRequest request) {
        return request.method().equals("GET") || request.method().equals("HEAD");
    }

    /**
     * The first words of a request that got no answer: {@code the server at BASE took the request but gave no answer}
     * and, after the whole wait ({@code waited} not null), {@code within N s}; then {@code : }.
     */
    private String noAnswer(HttpRequest request, Duration waited) {
        return "the server at " + base + " took the request but gave no answer"
                + (waited == null ? "" : " within " + waited.toSeconds() + " s") + ": ";
    }

    /**
     * What a command says when the server took {@code request} and gave no answer within its timeout: what its process
     * on this host is doing when known (stopped, in uninterruptible sleep, ended), else that it may be waiting for its
     * store; for a write, that the change may have been made all the same (tryout49 F7: a read changes nothing, and
     * {@code status} is not sent to {@code status}).
     */
    private String timedOut(HttpRequest request) {
        String why;
        java.util.Optional<Character> state = process == null ? java.util.Optional.empty() : process.state();
        if (process != null && state.isEmpty() || state.filter(c -> c == 'Z' || c == 'X').isPresent()) {
            why = "its process (pid " + process.pid() + " on this host) ended meanwhile";
        } else if (state.filter(c -> c == 'T' || c == 't').isPresent()) {
            why = ProcessIdentity.stoppedWords(process.pid());
        } else if (state.filter(c -> c == 'D').isPresent()) {
            why = "its process (pid " + process.pid() + " on this host) is in uninterruptible sleep (state D: waiting"
                    + " for a disk or a network file system; ps -o pid,stat,wchan -p " + process.pid() + " says on what)";
        } else {
            // The health answer is what 'buildhook status' asks first: it is not sent to itself.
            boolean status = request.uri().getPath().endsWith("/healthz");
            why = "it may be waiting for its store (" + (status ? "its log says, and buildhook nodes asked of another"
                    + " node says how each node stands" : "buildhook status says") + "; docs/storage.md)";
        }
        return noAnswer(request, request.timeout().orElse(answerTimeout)) + why + "." + (isRead(request) ? ""
                : " A change asked for (a re-run, a replay, a cancel, an approval) may have been made all the same:"
                        + " look (buildhook jobs) before asking again");
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        try {
            HttpResponse<T> response = exchange(request, handler);
            answers.incrementAndGet();
            return response;
        } catch (javax.net.ssl.SSLHandshakeException e) {
            // The server runs and answered: asking whether it runs would send the operator the wrong way.
            throw new CommandFailure("the server at " + base + " answered with a certificate this command does not"
                    + " trust (" + IoProblems.describe(e) + "). For a self-signed certificate or one of a private CA, give"
                    + " the command a trust store that holds it, in JAVA_OPTS: JAVA_OPTS='-Djavax.net.ssl.trustStore=FILE"
                    + " -Djavax.net.ssl.trustStorePassword=PASSWORD' (keytool -importcert -file CERT.pem -keystore FILE"
                    + " makes one; its password is needed to read it), and a --url with a name or address the certificate"
                    + " is for", ExitCodes.UNAVAILABLE);
        } catch (java.net.http.HttpTimeoutException e) {
            if (!(e instanceof java.net.http.HttpConnectTimeoutException)) {
                // Connected, asked, and no answer came: the server runs; it may be waiting for its store.
                throw new CommandFailure(timedOut(request), ExitCodes.UNAVAILABLE);
            }
            throw new CommandFailure("cannot reach " + base + " (" + IoProblems.describe(e) + "); is 'buildhook serve'"
                    + " running there? Give the address with --url", ExitCodes.UNAVAILABLE);
        } catch (IOException e) {
            if (answers.get() > 0 && e instanceof java.net.ConnectException) {
                // It answered this command before: the address is right, the server went away (tryout36 F7).
                throw new CommandFailure("the server at " + base + " answered this command before and now refuses"
                        + " connections (" + IoProblems.describe(e) + "): it was stopped or is restarting; run the"
                        + " command again once it answers", ExitCodes.UNAVAILABLE);
            }
            throw new CommandFailure("cannot reach " + base + " (" + IoProblems.describe(e) + "); is 'buildhook serve' running there?"
                    + " Give the address with --url", ExitCodes.UNAVAILABLE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommandFailure("interrupted", ExitCodes.UNAVAILABLE);
        }
    }

    private void fail(int status, String body) {
        if (!buildhooks(body)) {
            // Another program's answer (Tomcat's HTML 404 at a WAR's address without its context path, anyone's
            // listener): said so, never its body, which said nothing to the operator (tryout48 F7).
            throw new CommandFailure(notBuildhook(status), ExitCodes.UNAVAILABLE);
        }
        String message = message(body);
        switch (status) {
            // Both name the server asked: the default URL (localhost:8080) may be another buildhook than
            // the configuration's, such as a WAR in Tomcat, which writes no server-url file.
            case 401 -> throw new CommandFailure("the server at " + base + " refused the admin token (401): check"
                    + " --token-file or --token-env against that server's admin.token, and that it is the server you"
                    + " mean (else give its address with --url, e.g. http://tomcat:8080/buildhook/ for a WAR)",
                    ExitCodes.UNAVAILABLE);
            // Only the API's own "not found" means it is off; "no job …", "no attempt 9 …" are answers.
            case 404 -> throw new CommandFailure(message.equals("not found")
                    ? "the admin API is off on the server at " + base + " (404): set admin.token in its configuration,"
                            + " or give the address of the server you mean with --url"
                    : message + " (404)", ExitCodes.FAILED);
            case 405 -> throw new CommandFailure(message + " (405)" + webhookUrlHint(), ExitCodes.USAGE);
            case 400, 416 -> throw new CommandFailure(message + " (" + status + ")", ExitCodes.USAGE);
            case 409 -> throw new CommandFailure(message + " (409)", ExitCodes.FAILED);
            // An attempt's log on another node's disk: the message names that node.
            case 421 -> throw new CommandFailure(message + " (421)", ExitCodes.FAILED);
            // The last moment of a graceful stop (tryout38 F5): as the refused connection that follows it.
            case 503 -> throw new CommandFailure(stopping(body)
                    ? "the server at " + base
                            + (answers.get() > 1 ? " answered this command before and now says" : " says")
                            + " it is stopping (503): it was stopped or is restarting; run the command again once it"
                            + " answers"
                    : "the server answered 503: " + message, ExitCodes.UNAVAILABLE);
            default -> throw new CommandFailure("the server answered " + status + ": " + message,
                    ExitCodes.UNAVAILABLE);
        }
    }

    /**
     * When {@code --url} is a webhook URL ({@code …/webhook[/endpoint]}, which the server prints as where
     * to POST), under which the admin API answers 405: the address to give instead (tryout13 F7).
     */
    private String webhookUrlHint() {
        String path = base.getPath();
        int at = path.indexOf("/webhook/");
        if (at < 0) {
            return "";
        }
        return ": " + base + " is a webhook URL (where JobServ posts); --url wants the server's own address: --url "
                + base.resolve(path.substring(0, at + 1));
    }

    /**
     * Whether {@code body} is an error answer of buildhook's: a JSON object with a text {@code error}, as every error
     * of its admin API, its servlets and its containers' error pages ({@link org.buildhook.servlet.ErrorBody}) is.
     */
    private static boolean buildhooks(String body) {
        try {
            JsonNode answer = body == null ? null : JSON.readTree(body);
            return answer != null && answer.isObject() && answer.path("error").isTextual();
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * What a command says of an answer that is not buildhook's (HTML, an empty body): no buildhook admin API at
     * {@link #base}, the status, and that a WAR's URL includes its context path.
     */
    private String notBuildhook(int status) {
        String where = base.getScheme() + "://" + base.getRawAuthority();
        String war = "; a WAR's URL includes its context path (e.g. --url " + where + "/buildhook/)";
        if (status / 100 == 5) {
            return "no buildhook answered at " + base + " (HTTP " + status + " from another program, such as a reverse"
                    + " proxy or a servlet container in front of it: buildhook may not run behind it now, or this is"
                    + " not its address)" + war;
        }
        return "no buildhook admin API at " + base + " (HTTP " + status + " from another program)" + war;
    }

    /** Whether {@code body} is the {@code 503} of a graceful stop ({@code "stopping": true}). */
    private static boolean stopping(String body) {
        try {
            JsonNode answer = body == null ? null : JSON.readTree(body);
            return answer != null && answer.path("stopping").asBoolean(false);
        } catch (IOException e) {
            return false;
        }
    }

    private static String message(String body) {
        try {
            JsonNode error = JSON.readTree(body).get("error");
            if (error != null) {
                // One line on the terminal: it may quote a job's message or a payload value (escape27 F2), which the
                // server wrote escaped: its backslashes are not doubled again (tryout50 F3: logs of a job refused
                // for a trigger's newline quoted its message with \\x0a).
                return LogSafe.escapeMessage(error.asText());
            }
        } catch (IOException e) {
            // not JSON: show it as it is, on one line
        }
        String text = body == null ? "" : body.strip();
        return LogSafe.escape((text.length() > 300 ? text.substring(0, 300) : text).replaceAll("\\s+", " "));
    }

    private JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            // not JSON: another program's answer (a page served for every path)
        }
        throw new CommandFailure("no buildhook admin API at " + base + " (HTTP " + response.statusCode()
                + " from another program: its answer is not JSON); a WAR's URL includes its context path (e.g. --url "
                + base.getScheme() + "://" + base.getRawAuthority() + "/buildhook/)", ExitCodes.UNAVAILABLE);
    }

    /** {@code path?k=v&…} with the non-null values URL-encoded. */
    static String withQuery(String path, Map<String, Object> params) {
        StringBuilder b = new StringBuilder(path);
        char sep = '?';
        for (Map.Entry<String, Object> e : params.entrySet()) {
            if (e.getValue() != null) {
                b.append(sep).append(e.getKey()).append('=')
                        .append(URLEncoder.encode(e.getValue().toString(), StandardCharsets.UTF_8));
                sep = '&';
            }
        }
        return b.toString();
    }

    static String pretty(JsonNode node) {
        // (escape27 F2) Jackson escapes the C0 controls (ESC too) but writes DEL and the C1 controls as
        // they are: U+009B is a terminal's CSI. ControlEscapes escapes them as well: the same JSON value.
        try {
            return invisibleEscaped(JSON.writer(new ControlEscapes()).withDefaultPrettyPrinter().writeValueAsString(node));
        } catch (IOException e) {
            throw new CommandFailure("cannot print JSON: " + e.getMessage(), ExitCodes.UNAVAILABLE);
        }
    }

    /**
     * {@code json} with its invisible characters ({@link LogSafe#isInvisible}: bidirectional controls,
     * zero-width and other format characters) written as JSON's escapes, one per UTF-16 unit (escape29): a
     * terminal shows them, and the value is the same. Outside its strings, JSON is ASCII: every character
     * changed here is in a string.
     */
    private static String invisibleEscaped(String json) {
        StringBuilder out = null;
        for (int i = 0; i < json.length(); ) {
            int c = json.codePointAt(i);
            int next = i + Character.charCount(c);
            if (LogSafe.isInvisible(c)) {
                if (out == null) {
                    out = new StringBuilder(json.length() + 16).append(json, 0, i);
                }
                for (int unit = i; unit < next; unit++) {
                    out.append(String.format("\\u%04X", (int) json.charAt(unit)));
                }
            } else if (out != null) {
                out.appendCodePoint(c);
            }
            i = next;
        }
        return out == null ? json : out.toString();
    }

    /**
     * Jackson's JSON escapes, plus DEL and the C1 controls (U+007F–U+009F) as JSON's six-character escape
     * (a backslash, {@code u}, four hex digits): a string's value is the same, and the JSON printed to a
     * terminal holds no control character (escape27 F2).
     */
    private static final class ControlEscapes extends com.fasterxml.jackson.core.io.CharacterEscapes {

        private final int[] ascii = standardAsciiEscapesForJSON();

        ControlEscapes() {
            ascii[0x7f] = ESCAPE_STANDARD;
        }

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public com.fasterxml.jackson.core.SerializableString getEscapeSequence(int ch) {
            return ch >= 0x80 && ch <= 0x9f
                    ? new com.fasterxml.jackson.core.io.SerializedString(String.format("\\u%04X", ch)) : null;
        }
    }
}
