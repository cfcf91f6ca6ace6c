package org.buildhook.runner.store;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;

/** Connections handed to code that closes what it is given, when the connection belongs to someone else. */
final class Unclosable {

    private Unclosable() {
    }

    /** {@code c}, with {@code close()} doing nothing: its owner closes it. */
    static Connection of(Connection c) {
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> method.getName().equals("close") ? null : delegate(method, c, args));
    }

    /** Calls {@code method} on {@code target}, throwing what it threw (not its reflection wrapper). */
    static Object delegate(Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
