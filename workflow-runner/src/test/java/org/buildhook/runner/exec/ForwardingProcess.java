package org.buildhook.runner.exec;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.TimeUnit;

/**
 * A real process seen through other standard streams: everything but its input and output is the real
 * process's. For tests that stand between the node and its watchdog ({@link WatchdogProbe}, WatchdogTest's
 * held reports). {@link #destroyForcibly()} also calls {@link #outputEnds()}: once the process is killed its
 * output ends, and nothing may stay held back.
 */
abstract class ForwardingProcess extends Process {

    /** The process itself. */
    protected final Process real;

    ForwardingProcess(Process real) {
        this.real = real;
    }

    /** Called when the process is killed: its output ends, so whatever holds it back lets go. */
    protected abstract void outputEnds();

    @Override
    public abstract OutputStream getOutputStream();

    @Override
    public abstract InputStream getInputStream();

    @Override
    public InputStream getErrorStream() {
        return real.getErrorStream();
    }

    @Override
    public int waitFor() throws InterruptedException {
        return real.waitFor();
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        return real.waitFor(timeout, unit);
    }

    @Override
    public int exitValue() {
        return real.exitValue();
    }

    @Override
    public void destroy() {
        real.destroy();
    }

    @Override
    public Process destroyForcibly() {
        real.destroyForcibly();
        outputEnds();
        return this;
    }

    @Override
    public boolean isAlive() {
        return real.isAlive();
    }

    @Override
    public long pid() {
        return real.pid();
    }

    @Override
    public ProcessHandle toHandle() {
        return real.toHandle();
    }
}
