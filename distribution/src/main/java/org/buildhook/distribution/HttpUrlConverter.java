package org.buildhook.distribution;

import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A server URL given on the command line ({@code send URL}, the admin commands' {@code --url}): an
 * absolute {@code http://} or {@code https://} URL with a host. Anything else ({@code localhost:8080},
 * {@code ftp://…}, a URL with a space, a port outside 1-65535) is refused here as a usage error that names the text, instead
 * of reaching the HTTP client, which throws for it.
 */
final class HttpUrlConverter implements ITypeConverter<URI> {

    @Override
    public URI convert(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw refused(value, e.getReason() + " at character " + (e.getIndex() + 1));
        }
        String scheme = uri.getScheme();
        if (scheme == null || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))) {
            throw refused(value, "it does not start with http:// or https://");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw refused(value, "it names no host");
        }
        // The HTTP client throws IllegalArgumentException for a port outside 1-65535 (review55b F6); an empty port
        // ("http://host:/") is the scheme's own (getPort -1).
        if (uri.getPort() == 0 || uri.getPort() > 65_535) {
            throw refused(value, "its port " + uri.getPort() + " is not one a server can listen on (1 to 65535)");
        }
        return uri;
    }

    private static TypeConversionException refused(String value, String why) {
        return new TypeConversionException("'" + value + "' is not a server URL: " + why
                + "; write it with its scheme, like http://localhost:8080/");
    }
}
