package org.buildhook.runner.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * LOGIN roles of their own for tests of least privilege, made and dropped by the {@code postgres} superuser
 * ({@code su postgres -c psql}) on the database of {@value TestStores#PG_URL_ENV}. A test that needs one
 * fails on CI ({@code CI=true}: {@code .ci/run} runs as root beside the PostgreSQL it installs, so it can),
 * and is skipped elsewhere where that cannot be done (a developer's user that may not become
 * {@code postgres}); the owner revoking a privilege from itself covers the same messages there.
 */
final class PostgresRoles {

    private PostgresRoles() {
    }

    /** A new LOGIN role with {@code password}; fails the test on CI, skips it elsewhere, when roles cannot be made here. */
    static String create(String password) {
        String role = "t_role_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
        String failure = psql("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "'");
        if (failure != null && "true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError("cannot create a PostgreSQL role with su postgres -c psql (" + failure
                    + "), and CI runs as root beside its PostgreSQL: it must");
        }
        Assumptions.assumeTrue(failure == null, () -> "cannot create a PostgreSQL role here: " + failure);
        return role;
    }

    /**
     * Sets {@code role}'s {@code CONNECTION LIMIT} ({@code 0}: PostgreSQL refuses each of its logins, SQLSTATE 53300
     * "too many connections for role"); fails the test when it cannot be set.
     */
    static void limitConnections(String role, int limit) {
        String failure = psql("ALTER ROLE " + role + " CONNECTION LIMIT " + limit);
        if (failure != null) {
            throw new AssertionError("cannot set the connection limit of role " + role + ": " + failure);
        }
    }

    /** Drops {@code role} and what it was granted in the test database; never throws. */
    static void drop(String role) {
        String failure = psql("DROP OWNED BY " + role + "; DROP ROLE IF EXISTS " + role);
        if (failure != null) {
            System.err.println("could not drop role " + role + ": " + failure);
        }
    }

    /** {@code url} (the test database's, with its currentSchema) as {@code role} logs in. */
    static String urlAs(String url, String role, String password) {
        return url.replaceAll("user=[^&]*", "user=" + role).replaceAll("password=[^&]*", "password=" + password);
    }

    /** Runs {@code sql} as the superuser on the test database: null when it worked, else why not. */
    private static String psql(String sql) {
        String base = System.getenv(TestStores.PG_URL_ENV);
        String database = base.replaceAll("^jdbc:postgresql://[^/]*/([^?]*).*$", "$1");
        try {
            Process p = new ProcessBuilder(List.of("su", "postgres", "-c",
                    "psql -X -q -v ON_ERROR_STOP=1 -d " + database + " -c \"" + sql + "\""))
                    .redirectErrorStream(true).start();
            p.getOutputStream().close();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "psql did not end";
            }
            return p.exitValue() == 0 ? null : "exit " + p.exitValue() + ": " + output;
        } catch (IOException e) {
            return e.toString();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e.toString();
        }
    }
}
