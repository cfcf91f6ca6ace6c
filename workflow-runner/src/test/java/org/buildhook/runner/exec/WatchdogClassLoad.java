package org.buildhook.runner.exec;

/**
 * The program {@link WatchdogClassPathTest} runs in a JVM started as the watchdog's is: loads, verifies and initialises
 * each class named in its arguments ({@code Class.forName(name, true, …)}) and prints {@code ok NAME} or
 * {@code FAILED NAME: <what was thrown>}, one line each. Uses the JDK alone: it runs beside the watchdog's class path,
 * not on a test class path.
 */
final class WatchdogClassLoad {

    private WatchdogClassLoad() {
    }

    public static void main(String[] args) {
        ClassLoader loader = WatchdogClassLoad.class.getClassLoader();
        for (String name : args) {
            try {
                Class.forName(name, true, loader);
                System.out.println("ok " + name);
            } catch (Throwable e) { // LinkageError (verification, a class not there), ExceptionInInitializerError…
                System.out.println("FAILED " + name + ": " + e);
            }
        }
    }
}
