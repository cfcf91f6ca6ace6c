package org.buildhook.runner.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Connections handed to code that closes what it is given, when the connection belongs to someone else. */
final class Unclosable {

    private Unclosable() {
    }

    /** {@code c}, with {@code close()} doing nothing: its owner closes it. */
    static Connection of(Connection c) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> method.getName().equals("close") ? null : delegate(method, c, args));
    }

    /**
     * The methods already made accessible. A proxy hands its handler the same {@link Method} each
     * time; once accessible, {@link Method#invoke} no longer looks up its caller (a stack walk,
     * 3 % of the SQLite writer's samples: docs/BENCHMARKS.md, "Fifth pass: CPU per delivery").
     */
    private static final Set<Method> OPENED = ConcurrentHashMap.newKeySet();

    /** Calls {@code method} on {@code target}, throwing what it threw (not its reflection wrapper). */
    static Object delegate(Method method, Object target, Object[] args) throws Throwable {
        if (!OPENED.contains(method)) {
            // The java.sql interfaces are public and exported: nothing is opened that was closed.
            method.trySetAccessible();
            OPENED.add(method);
        }
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
