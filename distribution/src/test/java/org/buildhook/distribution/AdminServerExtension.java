package org.buildhook.distribution;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Gives each test that takes an {@link AdminServer} parameter a running one in a fresh temporary
 * folder, stopped and deleted after the test (after its {@code @AfterEach}, so a browser can quit
 * first). {@link WithoutAdminToken} on the parameter starts it with the admin API off.
 */
final class AdminServerExtension implements ParameterResolver {

    /** The server's configuration has no {@code admin.token}: the admin API and status page are off. */
    @Target(ElementType.PARAMETER)
    @Retention(RetentionPolicy.RUNTIME)
    @interface WithoutAdminToken {
    }

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
            AdminServerExtension.class);

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == AdminServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        try {
            Path dir = Files.createTempDirectory("buildhook-admin-test");
            // Stored values are closed in reverse order: the server stops before its folder goes.
            context.getStore(NAMESPACE).put("dir", (AutoCloseable) () -> delete(dir));
            AdminServer server = parameter.isAnnotated(WithoutAdminToken.class)
                    ? AdminServer.withoutAdminToken(dir) : AdminServer.start(dir);
            context.getStore(NAMESPACE).put("server", server);
            return server;
        } catch (Exception e) {
            throw new ParameterResolutionException("cannot start the admin test server: " + e, e);
        }
    }

    private static void delete(Path dir) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(dir)) {
            all = walk.sorted(Comparator.reverseOrder()).toList();
        }
        for (Path p : all) {
            Files.deleteIfExists(p);
        }
    }
}
