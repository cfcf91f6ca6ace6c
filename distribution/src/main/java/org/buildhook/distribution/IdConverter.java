package org.buildhook.distribution;

import java.util.regex.Pattern;
import org.buildhook.runner.store.Ids;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A job or delivery id given to an admin command ({@code job show}, {@code logs}, {@code approve} …):
 * letters, digits, {@code _} and {@code -}, at most 64, as the store makes them (26 characters of
 * Crockford base32, as in the first column of {@code buildhook jobs}). Anything else is refused here,
 * with the text given, before it becomes part of a URL: a space or a {@code %} would make no URL at
 * all, a {@code /}, {@code ?} or {@code #} another one than meant. An id in lower case (or with Crockford's I, L
 * or O) is given on as the store writes it ({@link Ids#typed}, tryout42 F15), also to servers before 2026-12-05.
 */
final class IdConverter implements ITypeConverter<String> {

    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    @Override
    public String convert(String value) {
        if (!ID.matcher(value).matches()) {
            throw new TypeConversionException("'" + value + "' is not an id: ids are 26 letters and digits, as in the"
                    + " first column of 'buildhook jobs' (JOB) and 'buildhook deliveries' (DELIVERY)");
        }
        String id = Ids.typed(value);
        return id != null ? id : value;
    }
}
