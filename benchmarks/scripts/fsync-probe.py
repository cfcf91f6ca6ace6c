#!/usr/bin/env python3
"""A light fsync probe: writes 4 KiB into FILE and fdatasyncs it every 20 ms until SIGTERM or SIGINT.

    fsync-probe.py FILE OUT

Each fdatasync slower than 5 ms is written to OUT as "HH:MM:SS.mmm <ms>" (UTC), and at the end one line
"# N fsyncs, mean M ms, max X ms, over 50 ms: A, over 100 ms: B". Run beside a paced run (paced-after-burst.sh):
a slow answer at the moment this separate process also waited long for its fsync is the disk's stall, which
every receiver that answers only after an fsync (buildhook's durable 202) waits for too (docs/BENCHMARKS.md,
"Twenty-fourth pass"). At 50 fsyncs per second it adds little to the disk's load.
"""
import os
import signal
import sys
import time


def main():
    if len(sys.argv) != 3:
        print("usage: fsync-probe.py FILE OUT", file=sys.stderr)
        sys.exit(2)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o600)
    block = os.urandom(4096)
    count = total = worst = over50 = over100 = 0
    with open(sys.argv[2], "w", buffering=1) as out:
        while not stop:
            os.pwrite(fd, block, (count % 256) * 4096)
            when = time.time()
            began = time.perf_counter()
            os.fdatasync(fd)
            ms = (time.perf_counter() - began) * 1000
            count += 1
            total += ms
            worst = max(worst, ms)
            over50 += ms > 50
            over100 += ms > 100
            if ms > 5:
                out.write(time.strftime("%H:%M:%S", time.gmtime(when)) + ".%03d %.1f\n" % (int(when % 1 * 1000), ms))
            time.sleep(0.02)
        out.write("# %d fsyncs, mean %.2f ms, max %.1f ms, over 50 ms: %d, over 100 ms: %d\n"
                  % (count, total / max(count, 1), worst, over50, over100))
    os.close(fd)
    os.unlink(sys.argv[1])


if __name__ == "__main__":
    main()
