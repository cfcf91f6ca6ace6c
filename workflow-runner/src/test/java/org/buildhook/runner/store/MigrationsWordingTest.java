package org.buildhook.runner.store;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The words of Migrations' refusals that do not need a database. */
class MigrationsWordingTest {

    /**
     * tryout19 F6: the empty-schema refusal explained PostgreSQL 15's rule for schema public also for a
     * schema of another name, where it does not apply.
     */
    @Test
    void theRuleForSchemaPublicIsSaidOnlyOfSchemaPublic() {
        assertThat(Migrations.noRightToCreateIn("public", "app", "pg_database_owner"))
                .startsWith("cannot create its tables in schema public: the role app has no CREATE privilege on it"
                        + " (from PostgreSQL 15 on, only the database's owner has it on schema public), and the first"
                        + " start needs it");
        assertThat(Migrations.noRightToCreateIn("ci_builds", "app", "owner"))
                .startsWith("cannot create its tables in schema ci_builds: the role app has no CREATE privilege on it,"
                        + " and the first start needs it")
                .doesNotContain("PostgreSQL 15").doesNotContain("schema public")
                .contains("run that first start once as the schema's owner (owner)");
    }
}
