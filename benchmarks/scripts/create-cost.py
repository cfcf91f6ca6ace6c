#!/usr/bin/env python3
"""The kernel's CPU for one file creation in a folder, now: what each job's three creations cost on this machine.

  create-cost.py FOLDER [N]

Creates N (default 300) empty files in FOLDER (made if missing; it must not hold them already) and prints the
mean system CPU per creation in microseconds, from getrusage around the loop. The files are left in place:
deleting them would itself slow the next creations (below). buildhook creates three inodes for every job
(the delivery's payload copy, the job's log folder and its log file: docs/storage.md); adnanh/webhook none.

Why it is measured beside each run (docs/BENCHMARKS.md, "Twenty-third pass"): on an ext4 file system without a
journal (this benchmark machine's root), a creation skips every free inode of the folder's block group that was
deleted in the last 60 s (360 s while its inode table block is dirty), reading each from the buffer cache, from
the start of the group (fs/ext4/ialloc.c, find_inode_bit and recently_deleted). Files other programs deleted
nearby (another session's tests and builds under /tmp) so make each creation cost from about 10 us to over
500 us of system CPU, changing from one minute to the next; with a journal the check is not made.
"""
import os
import resource
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    folder = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 300
    os.makedirs(folder, exist_ok=True)
    start = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    for i in range(n):
        os.close(os.open(os.path.join(folder, f"c{i}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    spent = resource.getrusage(resource.RUSAGE_SELF).ru_stime - start
    print(f"{1e6 * spent / n:.1f}")


if __name__ == "__main__":
    main()
