#!/usr/bin/env python3
"""Where one kind of thread spends its CPU, from a `perf record -g` of buildhook (jobs-ab.sh PERF=1).

  perf-frames.py PERF-DATA THREAD-REGEX [FRAME-REGEX]

Without FRAME-REGEX: every frame (method, native or kernel function) with the share of the matching
threads' samples whose stack holds it (inclusive), most first. With FRAME-REGEX: the samples under
the first frame that matches, by the frame each calls next (what that frame's share is made of).
Threads are matched by name (perf's comm: the Java thread name's first 15 characters, e.g.
'^db-scheduler-po' for db-scheduler's job threads). Java frames are named only when the JVM wrote
its perf map (JAVA_OPTS=-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit); stacks are whole
only with -XX:+PreserveFramePointer (docs/BENCHMARKS.md, "Fifth pass: CPU per delivery").
"""
import collections
import re
import subprocess
import sys


def samples(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,ip,sym"], capture_output=True,
                         text=True, errors="replace", check=True).stdout
    current = None
    for line in out.splitlines():
        if not line.strip():
            if current:
                yield current
            current = None
        elif not line[0].isspace():
            current = (line.split()[0], [])
        elif current is not None:
            parts = line.strip().split(None, 1)
            current[1].append(short(parts[1] if len(parts) > 1 else parts[0]))
    if current:
        yield current


def short(frame):
    """'void org.a.B.c(int)' -> 'B.c'; native and kernel names as they are."""
    frame = re.sub(r"\(.*", "", frame).split(" ")[-1]
    return ".".join(frame.split(".")[-2:])


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    thread = re.compile(sys.argv[2])
    chosen = [frames for comm, frames in samples(sys.argv[1]) if thread.search(comm)]
    if not chosen:
        sys.exit("no samples of threads matching " + sys.argv[2])
    print(f"{len(chosen)} samples")
    counts = collections.Counter()
    if len(sys.argv) == 3:
        for frames in chosen:
            counts.update(set(frames))
    else:
        frame = re.compile(sys.argv[3])
        for frames in chosen:
            for i, name in enumerate(frames):
                if frame.search(name):
                    counts["(all)"] += 1
                    counts[frames[i - 1] if i > 0 else "(itself)"] += 1
                    break
    for name, n in counts.most_common(80):
        print(f"{100 * n / len(chosen):6.2f} %  {name}")


if __name__ == "__main__":
    main()
