package org.buildhook.runner.rules;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The environment variable that tells a job's command which units of a shared resource its attempt holds
 * (units32, tryout30 F1): {@code BUILDHOOK_RESOURCE_<NAME>}, the resource's name upper-cased with every character
 * other than a letter or digit written {@code _} ({@code lab-boards} gives {@code BUILDHOOK_RESOURCE_LAB_BOARDS}),
 * its value the numbers of the units held, from 1 to the resource's capacity, ascending and comma-separated
 * ({@code 2}, or {@code 1,3}). Two resource names that give the same variable ({@code lab-boards} and
 * {@code lab_boards}) get a warning when the rules file is read, and a job holding units of both is told neither.
 */
public final class ResourceVariable {

    /** What every such variable's name starts with. */
    public static final String PREFIX = Placeholder.RESERVED_PREFIX + "RESOURCE_";

    private ResourceVariable() {
    }

    /**
     * The variable of resource {@code resource}.
     *
     * @param resource a resource name as the rules file declares it (letters, digits, {@code .}, {@code _}, {@code -})
     * @return {@link #PREFIX} and the name upper-cased, every character but {@code A-Z} and {@code 0-9} as {@code _}
     */
    public static String of(String resource) {
        return PREFIX + resource.toUpperCase(Locale.ROOT).replaceAll("[^A-Z0-9]", "_");
    }

    /**
     * The variables of the units an attempt holds.
     *
     * @param units the unit numbers held (each from 1 to its resource's capacity), by resource name; a resource
     *              without numbers (a hold written before they were recorded) gives no variable
     * @return variable name to value ({@code 1,3}), sorted by name; empty when {@code units} is; none for two resources
     *         of {@code units} whose names give one variable
     */
    public static Map<String, String> variables(Map<String, List<Integer>> units) {
        Map<String, String> out = new TreeMap<>();
        java.util.Set<String> shared = new java.util.HashSet<>();
        units.forEach((resource, numbers) -> {
            if (numbers != null && !numbers.isEmpty()) {
                String variable = of(resource);
                if (shared.contains(variable) || out.containsKey(variable)) {
                    // Two resources of one variable (the rules file was warned of it): either's numbers would be
                    // read as the other's, a board another job holds; neither is told.
                    shared.add(variable);
                    out.remove(variable);
                } else {
                    out.put(variable, numbers.stream().sorted().map(String::valueOf).collect(Collectors.joining(",")));
                }
            }
        });
        return out;
    }
}
