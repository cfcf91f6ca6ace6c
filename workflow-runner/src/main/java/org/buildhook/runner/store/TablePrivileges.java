package org.buildhook.runner.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PostgreSQL: whether the role of {@code store.url} may read and write buildhook's tables in its schema,
 * as the least-privilege set-up of docs/storage.md grants it ({@code SELECT, INSERT, UPDATE, DELETE ON
 * ALL TABLES}). A table it may not use failed the start later with PostgreSQL's bare "permission denied
 * for table node_leases", and {@code buildhook check} said nothing (final18 F3); the start and {@code
 * check} now ask first ({@code has_table_privilege}, one query) and say which tables lack which
 * privilege, and the {@code GRANT} to run.
 */
final class TablePrivileges {

    /** What a node needs on each of its tables, in the order the {@code GRANT} names them. */
    static final List<String> NEEDED = List.of("SELECT", "INSERT", "UPDATE", "DELETE");

    /** Tables only the migrations write (the owner's start): a node only reads them. */
    private static final Set<String> READ_ONLY = Set.of("schema_version", "store_installation");

    private static final Pattern CREATE_TABLE = Pattern.compile("(?i)\\bCREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?"
            + "([A-Za-z_][A-Za-z0-9_]*)");

    private TablePrivileges() {
    }

    /** buildhook's PostgreSQL tables: {@code schema_version} and those its migrations create, in that order. */
    static List<String> tables() {
        List<String> tables = new ArrayList<>();
        tables.add("schema_version");
        for (Migrations.Migration m : Migrations.known(Dialect.POSTGRESQL)) {
            Matcher found = CREATE_TABLE.matcher(m.sql());
            while (found.find()) {
                String table = found.group(1).toLowerCase(Locale.ROOT);
                if (!tables.contains(table)) {
                    tables.add(table);
                }
            }
        }
        return tables;
    }

    /**
     * The privileges the current role lacks on buildhook's tables that exist in its current schema, by
     * table (in {@link #tables()} order, privileges in {@link #NEEDED} order); empty when it has them all.
     *
     * @throws SQLException when the question itself fails (the database went away)
     */
    static Map<String, List<String>> missing(Connection c) throws SQLException {
        List<String> tables = tables();
        Map<String, List<String>> missing = new LinkedHashMap<>();
        Array names = c.createArrayOf("text", tables.toArray());
        try (PreparedStatement p = c.prepareStatement("SELECT name, has_table_privilege(t, 'SELECT'),"
                + " has_table_privilege(t, 'INSERT'), has_table_privilege(t, 'UPDATE'), has_table_privilege(t, 'DELETE')"
                + " FROM (SELECT name, n, to_regclass(format('%I.%I', current_schema(), name)) AS t"
                + " FROM unnest(?::text[]) WITH ORDINALITY AS u(name, n)) AS found WHERE t IS NOT NULL ORDER BY n")) {
            p.setArray(1, names);
            try (ResultSet r = p.executeQuery()) {
                while (r.next()) {
                    String table = r.getString(1);
                    List<String> lacks = new ArrayList<>();
                    for (int i = 0; i < NEEDED.size(); i++) {
                        if (!r.getBoolean(2 + i) && (i == 0 || !READ_ONLY.contains(table))) {
                            lacks.add(NEEDED.get(i));
                        }
                    }
                    if (!lacks.isEmpty()) {
                        missing.put(table, List.copyOf(lacks));
                    }
                }
            }
        } finally {
            names.free();
        }
        return missing;
    }

    /**
     * What the start says, after "the PostgreSQL store", of a role that lacks privileges on tables of its
     * schema, and what {@code buildhook check} says of it beforehand ({@link StoreReachability}).
     *
     * @param missing by table, the privileges the role lacks on it ({@link #missing}); not empty
     */
    static String lacking(String schema, String role, Map<String, List<String>> missing) {
        StringBuilder which = new StringBuilder();
        missing.forEach((table, privileges) -> which.append(which.length() == 0 ? "" : "; ")
                .append(String.join(", ", privileges)).append(" on ").append(table));
        String all = String.join(", ", NEEDED);
        return "cannot use its tables in schema " + schema + ": the role " + role + " lacks " + which
                + " (a REVOKE, or a table an upgrade added after the GRANT); as the schema's owner, run GRANT " + all
                + " ON ALL TABLES IN SCHEMA " + schema + " TO " + role + ", and once ALTER DEFAULT PRIVILEGES IN SCHEMA "
                + schema + " GRANT " + all + " ON TABLES TO " + role + " so that the tables later upgrades add get"
                + " them too (docs/storage.md, Least privilege)";
    }
}
