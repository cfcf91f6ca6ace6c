#!/usr/bin/env python3
"""What systemd does for buildhook.socket, reduced to what SocketActivationIT needs: it binds a listening
socket and keeps it while it starts, stops and starts again the command after "--" with that socket as
its standard input (StandardInput=socket).

    hold-socket.py LOG -- COMMAND...

Prints "port N" once it listens on 127.0.0.1:N (a free port). Then reads its own standard input, one
word a line: "start" starts COMMAND (its output appended to LOG) and prints "started PID"; "stop" sends
it SIGTERM, waits for its exit and prints "exited STATUS" (128 + the signal for one that ended by it).
At the end of its input it kills what still runs and exits.
"""
import signal
import socket
import subprocess
import sys


def main():
    log_path = sys.argv[1]
    command = sys.argv[sys.argv.index("--") + 1:]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    print("port", listener.getsockname()[1], flush=True)
    child = None
    try:
        for line in sys.stdin:
            word = line.strip()
            if word == "start":
                with open(log_path, "ab") as log:
                    child = subprocess.Popen(command, stdin=listener.fileno(), stdout=log,
                                             stderr=subprocess.STDOUT)
                print("started", child.pid, flush=True)
            elif word == "stop":
                child.send_signal(signal.SIGTERM)
                status = child.wait()
                print("exited", 128 - status if status < 0 else status, flush=True)
            elif word:
                print("unknown command", word, flush=True)
    finally:
        if child is not None and child.poll() is None:
            child.kill()
            child.wait()
        listener.close()


if __name__ == "__main__":
    main()
