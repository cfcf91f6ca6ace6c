package org.buildhook.servlet;

import static org.buildhook.servlet.Html.escape;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Optional;

/**
 * Links to addresses a delivery carried (the build's {@code web_url}, a run's {@code log_url}):
 * only absolute {@code http} and {@code https} URLs with a host become links, so a payload cannot
 * put a {@code javascript:} or {@code data:} link on the page; the text is escaped like any value.
 */
final class SafeLinks {

    private SafeLinks() {
    }

    /**
     * The longest URL made a link: a payload string's limit (the parser's, 65,536 characters). A browser follows
     * far longer ones; until 2026-12-02 the limit was 2048, and a longer {@code web_url} was linked nowhere.
     */
    static final int MAX_URL = 65_536;

    /** The URL when it is an absolute http(s) URL with a host of at most {@link #MAX_URL} characters; else empty. */
    static Optional<String> http(String url) {
        if (url == null || url.isBlank() || url.length() > MAX_URL) {
            return Optional.empty();
        }
        try {
            URI uri = new URI(url.strip());
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null) {
                return Optional.of(uri.toString());
            }
        } catch (URISyntaxException e) {
            // Not a URL: shown as no link.
        }
        return Optional.empty();
    }

    /**
     * An external link with this text (HTML) and CSS class, or the empty string when the URL is not safe. Its
     * {@code href} is the URL with its characters beyond ASCII percent-encoded as UTF-8 ({@link URI#toASCIIString}), as
     * a browser sends it: {@link Html#escape} shows an invisible character as a backslash escape (escape29), which in
     * an address would lead elsewhere.
     */
    static String link(String url, String textHtml, String css) {
        return http(url).map(u -> "<a class=\"" + css + "\" href=\"" + escape(URI.create(u).toASCIIString())
                + "\" target=\"_blank\" rel=\"noopener noreferrer\">" + textHtml + "</a>").orElse("");
    }

    /**
     * As {@link #link} for a list, whose every live update carries it (the deliveries and their jobs): a URL of
     * at most {@link Html#TITLE_WIDTH} characters is linked whole; a longer one, which a list clips like any
     * payload value (tryout24 F3) but which cut would lead elsewhere, links to the job's page ({@code ?job=jobId}),
     * where it is linked whole, with a {@code title} saying so.
     *
     * @param url      the URL from the payload, or null
     * @param textHtml the link's text, HTML
     * @param css      the link's CSS class
     * @param jobId    the job whose page links the URL whole
     * @return the link, or the empty string when the URL is not safe (see {@link #http})
     */
    static String listLink(String url, String textHtml, String css, String jobId) {
        return http(url).map(u -> u.length() <= Html.TITLE_WIDTH ? link(u, textHtml, css)
                : "<a class=\"" + css + " on-job-page\" href=\"?job=" + escape(jobId) + "\" title=\"its address is "
                + u.length() + " characters long: the job&#39;s page links it\">" + textHtml + "</a>").orElse("");
    }
}
