package org.buildhook.servlet;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every relative link in README.md and docs/*.md leads somewhere: the file exists and, for a
 * {@code #anchor}, the page has a heading with that anchor (GitHub's rule: lower case, punctuation
 * dropped, spaces to hyphens, {@code -1}, {@code -2}… for repeats).
 */
class DocsLinksTest {

    private static final Pattern HEADING = Pattern.compile("^#{1,6} (.*)$");
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
    private static final Pattern REFERENCE = Pattern.compile("^\\s*\\[[^\\]]+\\]:\\s+(\\S+)");
    private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:");

    @Test
    void everyRelativeLinkAndAnchorResolves() throws IOException {
        Path root = Docs.root();
        List<Path> pages = new ArrayList<>();
        pages.add(root.resolve("README.md"));
        try (Stream<Path> docs = Files.list(root.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        Map<Path, Set<String>> anchors = new HashMap<>();
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path page : pages) {
            List<String> lines = outsideCode(Files.readAllLines(page));
            for (int n = 0; n < lines.size(); n++) {
                for (String target : targets(lines.get(n))) {
                    links++;
                    String problem = problem(page, target, anchors);
                    if (problem != null) {
                        broken.add(root.relativize(page) + ":" + (n + 1) + ": " + target + " — " + problem);
                    }
                }
            }
        }

        assertThat(links).as("links checked").isGreaterThan(20);
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void anchorsFollowGitHubsRule() {
        assertThat(anchors(List.of("# Rules reference", "## Troubleshooting", "### Troubleshooting",
                "#### `GET /api/jobs/{id}/log[?attempt=N][&follow=1]`",
                "### Troubleshooting: \"my signature is rejected\"",
                "## Operations: admin API and admin commands")))
                .containsExactlyInAnyOrder("rules-reference", "troubleshooting", "troubleshooting-1",
                        "get-apijobsidlogattemptnfollow1", "troubleshooting-my-signature-is-rejected",
                        "operations-admin-api-and-admin-commands");
    }

    private static List<String> targets(String line) {
        List<String> found = new ArrayList<>();
        String prose = line.replaceAll("`[^`]*`", "``");
        Matcher link = LINK.matcher(prose);
        while (link.find()) {
            found.add(link.group(1));
        }
        Matcher reference = REFERENCE.matcher(prose);
        if (reference.find()) {
            found.add(reference.group(1));
        }
        found.removeIf(t -> SCHEME.matcher(t).find());
        return found;
    }

    private static String problem(Path page, String target, Map<Path, Set<String>> anchors) throws IOException {
        int hash = target.indexOf('#');
        String file = hash < 0 ? target : target.substring(0, hash);
        Path linked = file.isEmpty() ? page : page.getParent().resolve(file).normalize();
        if (!Files.exists(linked)) {
            return "no such file";
        }
        if (hash < 0) {
            return null;
        }
        if (!linked.toString().endsWith(".md")) {
            return "an anchor into a file that is not markdown";
        }
        Set<String> known = anchors.get(linked);
        if (known == null) {
            known = anchors(outsideCode(Files.readAllLines(linked)));
            anchors.put(linked, known);
        }
        return known.contains(target.substring(hash + 1)) ? null : "no heading with that anchor";
    }

    /** The lines, with those of fenced code blocks blanked (a {@code #} there is a comment, not a heading). */
    private static List<String> outsideCode(List<String> lines) {
        List<String> out = new ArrayList<>();
        boolean fenced = false;
        for (String line : lines) {
            if (line.startsWith("```")) {
                fenced = !fenced;
                out.add("");
            } else {
                out.add(fenced ? "" : line);
            }
        }
        return out;
    }

    private static Set<String> anchors(List<String> lines) {
        Map<String, Integer> seen = new HashMap<>();
        Set<String> anchors = new HashSet<>();
        for (String line : lines) {
            Matcher heading = HEADING.matcher(line);
            if (heading.matches()) {
                String slug = heading.group(1)
                        .replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1")
                        .replace("`", "").replace("*", "")
                        .strip().toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N}_\\- ]", "")
                        .replace(' ', '-');
                int count = seen.merge(slug, 1, Integer::sum);
                anchors.add(count == 1 ? slug : slug + "-" + (count - 1));
            }
        }
        return anchors;
    }
}
