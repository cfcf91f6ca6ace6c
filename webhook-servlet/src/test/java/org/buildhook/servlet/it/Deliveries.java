package org.buildhook.servlet.it;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.buildhook.core.Signer;

/** Real JobServ bodies, signed as JobServ signs them, posted over real HTTP. */
public final class Deliveries {

    static final Path FIXTURES = Path.of(System.getProperty("buildhook.fixtures"));
    public static final String SECRET = "UseSomethingGoodHere";
    /**
     * How long one request may take before the test fails. Generous on purpose: the first request to a WAR
     * loads the request path's classes, and from a WAR Tomcat does not unpack each class is read from its jar
     * inside the WAR; on CI's 2 cores under stress-ng that first 202 took 36 s, past the 30 s this was
     * (ci-aa: WarWatchdogIT.aWarTomcatDoesNotUnpack…, HttpTimeoutException). A hang still fails.
     */
    static final Duration REQUEST_TIMEOUT = Duration.ofMinutes(3);

    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    private Deliveries() {
    }

    public static byte[] fixture(String name) throws IOException {
        return Files.readAllBytes(FIXTURES.resolve(name));
    }

    /** The seed fixture with another build id: a distinct body, hence a distinct delivery. */
    public static byte[] seedWithBuildId(long buildId) throws IOException {
        String seed = new String(fixture("build-67-passed.json"), StandardCharsets.UTF_8);
        return seed.replace("\"build_id\": 67,", "\"build_id\": " + buildId + ",")
                .replace("/builds/67/", "/builds/" + buildId + "/").getBytes(StandardCharsets.UTF_8);
    }

    static String sign(byte[] body) {
        return Signer.sign(body, SECRET.getBytes(StandardCharsets.UTF_8));
    }

    public static HttpResponse<String> post(URI uri, byte[] body, String signature) throws IOException, InterruptedException {
        return post(uri, body, signature, REQUEST_TIMEOUT);
    }

    /**
     * {@link #postSigned(URI, byte[])} by a client that gives up after {@code timeout}, as a sender does (JobServ's
     * {@code jobserv-send}: 30 s): an answer later than that is an {@link java.net.http.HttpTimeoutException}.
     */
    public static HttpResponse<String> postSigned(URI uri, byte[] body, Duration timeout)
            throws IOException, InterruptedException {
        return post(uri, body, sign(body), timeout);
    }

    private static HttpResponse<String> post(URI uri, byte[] body, String signature, Duration timeout)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (signature != null) {
            request.header("X-JobServ-Sig", signature);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    public static HttpResponse<String> postSigned(URI uri, byte[] body) throws IOException, InterruptedException {
        return post(uri, body, sign(body));
    }

    public static HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
