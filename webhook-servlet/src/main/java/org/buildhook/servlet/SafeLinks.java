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

    /** The URL when it is an absolute http(s) URL with a host; else empty. */
    static Optional<String> http(String url) {
        if (url == null || url.isBlank() || url.length() > 2048) {
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

    /** An external link with this text (HTML) and CSS class, or the empty string when the URL is not safe. */
    static String link(String url, String textHtml, String css) {
        return http(url).map(u -> "<a class=\"" + css + "\" href=\"" + escape(u)
                + "\" target=\"_blank\" rel=\"noopener noreferrer\">" + textHtml + "</a>").orElse("");
    }
}
