package org.buildhook.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * tryout55 F2: the status page's cookie is not the admin token, which the browser sent to every service of the host
 * name (any port), but {@code v1.<issued>.<HMAC-SHA256 of the token>}, which opens the page and the API through the
 * cookie only, for 7 days from the sign-in (never renewed: review56 F6), on every node with the same token. A cookie
 * of the token itself (older builds) is still accepted and replaced in the same answer.
 */
@ExtendWith(AdminServerExtension.class)
class StatusPageCookieTest {

    /** The value the server should issue at {@code issued} for {@code token}, as operations.md describes it. */
    private static String value(String token, long issued) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(token.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return "v1." + issued + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                mac.doFinal(("buildhook admin cookie v1 " + issued).getBytes(StandardCharsets.US_ASCII)));
    }

    private static final String SIGN_IN_ENDED =
            "Your sign-in has ended: a sign-in lasts 7 days, and ends at once when admin.token changes.";

    private static String cookie(String value) {
        return "buildhook_admin=" + value;
    }

    private static long issuedOf(String cookie) {
        return Long.parseLong(cookie.split("\\.")[1]);
    }

    private static HttpResponse<String> post(AdminServer server, String path, String cookie) throws Exception {
        return server.http.send(HttpRequest.newBuilder(server.uri().resolve("api/" + path)).header("Cookie", cookie)
                .header("X-Buildhook-Request", "1").POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theCookieHoldsAValueDerivedFromTheTokenThatOpensThePageAndTheApiButIsNoBearerToken(AdminServer server)
            throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        HttpResponse<String> login = server.page("?token=" + AdminServer.TOKEN, null);
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = setCookie.substring(0, setCookie.indexOf(';'));

        assertThat(setCookie).doesNotContain(AdminServer.TOKEN)
                .doesNotContain(URLEncoder.encode(AdminServer.TOKEN, StandardCharsets.UTF_8))
                .contains("HttpOnly").contains("SameSite=Strict").contains("Path=/");
        long issued = issuedOf(cookie);
        assertThat(cookie).isEqualTo(cookie(value(AdminServer.TOKEN, issued)));
        assertThat(Instant.ofEpochSecond(issued)).isBetween(Instant.now().minusSeconds(120), Instant.now());
        assertThat(server.page("", cookie).body()).contains("Recent deliveries");
        assertThat(server.page("api/jobs", cookie).statusCode()).isEqualTo(200);
        assertThat(post(server, "jobs/" + jobId + "/rerun", cookie).statusCode()).isEqualTo(202);
        // A fresh cookie is not renewed.
        assertThat(server.page("", cookie).headers().firstValue("Set-Cookie")).isEmpty();
        // Whoever reads the cookie (a service on another port that logs it) holds no bearer token.
        String value = cookie.substring("buildhook_admin=".length());
        assertThat(server.getWithAuthorization("jobs", "Bearer " + value).statusCode()).isEqualTo(401);
        assertThat(server.page("?token=" + value, null).statusCode()).isEqualTo(401);
    }

    @Test
    void anExpiredOrAlteredValueIsRefusedAndOneTwoDaysOldIsAcceptedButNotRenewed(AdminServer server)
            throws Exception {
        long now = Instant.now().getEpochSecond();
        String expired = cookie(value(AdminServer.TOKEN, now - Duration.ofDays(7).plusMinutes(1).toSeconds()));
        String eightDaysOld = cookie(value(AdminServer.TOKEN, now - Duration.ofDays(8).toSeconds()));
        String fresh = value(AdminServer.TOKEN, now);
        String lastChar = fresh.substring(fresh.length() - 1);
        String alteredMac = cookie(fresh.substring(0, fresh.length() - 1) + (lastChar.equals("A") ? "B" : "A"));
        String alteredTime = cookie("v1." + (now + 1) + fresh.substring(fresh.lastIndexOf('.')));
        String future = cookie(value(AdminServer.TOKEN, now + Duration.ofDays(1).toSeconds()));

        for (String refused : new String[] {expired, eightDaysOld, alteredMac, alteredTime, future,
                "buildhook_admin=v1.x.y"}) {
            // The console that asks again says why (a sign-in is never renewed), on the form and to its live polls.
            assertThat(server.page("", refused).body()).as(refused).contains("name=\"token\"")
                    .contains(SIGN_IN_ENDED).doesNotContain("Recent deliveries");
            HttpResponse<String> live = server.page("?part=live", refused);
            assertThat(live.statusCode()).as(refused).isEqualTo(401);
            assertThat(live.body()).as(refused).contains(SIGN_IN_ENDED);
            assertThat(server.page("api/jobs", refused).statusCode()).as(refused).isEqualTo(401);
        }
        // A browser that never signed in sees the form only.
        assertThat(server.page("", null).body()).contains("name=\"token\"").doesNotContain("sign-in has ended");

        // review56 F6: a renewal made the cookie's 7 days count from its last use, not from the sign-in, so whoever
        // holds a leaked value (another service on the host name logged it) kept it valid for ever by presenting it
        // before each expiry. The page, its polls and the API accept it, and none sets a new one.
        String twoDaysOld = cookie(value(AdminServer.TOKEN, now - Duration.ofDays(2).toSeconds()));
        for (String path : new String[] {"", "?part=live", "api/jobs", "api/deliveries"}) {
            HttpResponse<String> answer = server.page(path, twoDaysOld);
            assertThat(answer.statusCode()).as(path).isEqualTo(200);
            assertThat(answer.headers().firstValue("Set-Cookie")).as(path).isEmpty();
        }
        assertThat(server.page("", twoDaysOld).body()).contains("Recent deliveries");
    }

    @Test
    void aCookieOfTheTokenItselfFromAnOlderBuildIsAcceptedAndReplacedInTheSameAnswer(AdminServer server)
            throws Exception {
        String jobId = server.awaitJob(server.deliver("build-67-passed.json"), "SUCCEEDED").path("id").asText();
        String raw = cookie(URLEncoder.encode(AdminServer.TOKEN, StandardCharsets.UTF_8));

        HttpResponse<String> page = server.page("", raw);
        HttpResponse<String> api = server.page("api/jobs", raw);
        HttpResponse<String> rerun = post(server, "jobs/" + jobId + "/rerun", raw);

        for (HttpResponse<String> answer : java.util.List.of(page, api, rerun)) {
            assertThat(answer.statusCode()).as(answer.uri().toString()).isIn(200, 202);
            String setCookie = answer.headers().firstValue("Set-Cookie").orElseThrow();
            assertThat(setCookie).startsWith("buildhook_admin=v1.").doesNotContain(AdminServer.TOKEN)
                    .contains("HttpOnly").contains("SameSite=Strict");
        }
        assertThat(page.body()).contains("Recent deliveries");
        assertThat(rerun.statusCode()).isEqualTo(202);
    }

    @Test
    void anotherNodeWithTheSameTokenAcceptsTheCookieAndOneWithAnotherTokenRefusesIt(AdminServer server,
            @TempDir Path dir) throws Exception {
        String cookie = server.signIn();

        try (AdminServer sameToken = AdminServer.start(Files.createDirectories(dir.resolve("same")))) {
            assertThat(sameToken.page("", cookie).body()).contains("Recent deliveries");
            assertThat(sameToken.page("api/jobs", cookie).statusCode()).isEqualTo(200);
            assertThat(sameToken.page("", cookie).headers().firstValue("Set-Cookie")).isEmpty();
        }
        try (AdminServer changed = AdminServer.withAdminToken(Files.createDirectories(dir.resolve("changed")),
                "the-admin-token-after-a-change-0123")) {
            assertThat(changed.page("", cookie).body()).contains("name=\"token\"").contains(SIGN_IN_ENDED)
                    .doesNotContain("Recent deliveries");
            assertThat(changed.page("api/jobs", cookie).statusCode()).isEqualTo(401);
            assertThat(changed.page("", changed.signIn()).body()).contains("Recent deliveries");
        }
    }
}
