#!/usr/bin/env python3
"""Summary of one vs-adnanh.sh run: each figure next to its reference of the same run, the ratio,
and the goal of issue 17 it answers. Reads the RESULT lines of the *.out files in the run's folder.
   python3 benchmarks/scripts/summary.py RUN-FOLDER"""
import glob
import os
import sys


def results(folder):
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.out"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.startswith("RESULT "):
                    fields = dict(p.split("=", 1) for p in line.split()[1:] if "=" in p)
                    found.setdefault(fields.get("label", os.path.basename(path)), []).append(fields)
    return found


def num(found, label, key):
    rows = found.get(label)
    if not rows:
        return None
    values = [float(r[key]) for r in rows if key in r and r[key] not in ("", "NaN")]
    return sum(values) / len(values) if values else None


def _sum(a, b):
    return None if a is None or b is None else a + b


def fmt(value, unit):
    """A figure with the precision it needs: 3 digits below 1, 2 below 10, 1 above."""
    if value is None:
        return "-"
    digits = 3 if abs(value) < 1 else 2 if abs(value) < 10 else 1
    return f"{value:,.{digits}f} {unit}"


def main():
    found = results(sys.argv[1])
    rows = []  # what, figure, reference, ratio, goal, verdict

    def ratio_row(what, figure, unit, ref_name, ref, goal_text, test):
        if figure is None or ref is None or ref == 0:
            rows.append((what, fmt(figure, unit), f"{ref_name}: {fmt(ref, unit)}", "-", goal_text, "n/a"))
            return
        r = figure / ref
        verdict = "-" if test is None else "met" if test(r) else "MISSED"
        rows.append((what, fmt(figure, unit), f"{ref_name}: {fmt(ref, unit)}", f"x{r:.2f}", goal_text, verdict))

    def bound_row(what, figure, unit, ref_name, ref, goal_text, test):
        ref_text = f"{ref_name}: {fmt(ref, unit)}"
        if figure is None:
            rows.append((what, "-", ref_text, "-", goal_text, "n/a"))
            return
        ratio = f"x{figure / ref:.2f}" if ref else "-"
        rows.append((what, fmt(figure, unit), ref_text, ratio, goal_text, "met" if test(figure) else "MISSED"))

    ceiling = num(found, "fsync", "ceiling_per_s")
    fsync_ms = num(found, "fsync", "fsync_ms")
    bare = num(found, "bare-servlet", "accepted_per_s")
    ratio_row("durable 202, rule matches nothing", num(found, "buildhook-202", "accepted_per_s"), "/s",
              f"fsync ceiling ({fsync_ms or 0:.2f} ms per 4 KiB fsync)", ceiling, ">= 0.90", lambda r: r >= 0.90)
    if "buildhook-pg-202" in found:
        ratio_row("PostgreSQL: durable 202, rule matches nothing", num(found, "buildhook-pg-202", "accepted_per_s"),
                  "/s", "fsync ceiling", ceiling, ">= 0.90", lambda r: r >= 0.90)
    # A disk whose fsync is quicker than the server's CPU per request puts the ceiling above what
    # even the bare servlet answers; the lower of the two is what a durable 202 can reach here.
    if ceiling and bare and bare < ceiling:
        for label, what in (("buildhook-202", "durable 202"), ("buildhook-pg-202", "PostgreSQL: durable 202")):
            if label in found:
                ratio_row(f"{what}, against the lower reference", num(found, label, "accepted_per_s"), "/s",
                          "bare Jetty servlet (below the fsync ceiling)", bare, "(context)", None)
    # The durable floor: what any receiver that stores before its 202 pays (limits.DurableServlet).
    durable = num(found, "durable-floor", "accepted_per_s")
    for label, what in (("buildhook-202", "durable 202"), ("buildhook-pg-202", "PostgreSQL: durable 202")):
        if label in found:
            ratio_row(f"{what}, against the durable floor", num(found, label, "accepted_per_s"), "/s",
                      "durable floor (body to SQLite, group commit)", durable, "(context)", None)
    ratio_row("durable floor", durable, "/s", "bare Jetty servlet", bare, "(what storing costs)", None)
    ratio_row("404 unknown endpoint (body read)", num(found, "buildhook-404", "accepted_per_s"), "/s",
              "bare Jetty servlet", bare, ">= 0.80", lambda r: r >= 0.80)
    ratio_row("401 bad signature", num(found, "buildhook-401", "accepted_per_s"), "/s",
              "bare Jetty servlet", bare, ">= 0.80", lambda r: r >= 0.80)
    bare_cpu = num(found, "bare-servlet", "server_cpu_ms_per_request")
    for label, what in (("buildhook-202", "durable 202"), ("buildhook-pg-202", "PostgreSQL: durable 202"),
                        ("buildhook-404", "404"), ("buildhook-401", "401")):
        if label in found:
            ratio_row(f"{what}: server CPU per request", num(found, label, "server_cpu_ms_per_request"), "ms",
                      "bare Jetty servlet", bare_cpu, "(cost)", None)
    # The floor is the launch buildhook uses: posix_spawn with a new session (runs before 2026-11-30 02:00
    # UTC have only the setsid exec's floor, the launch of that time).
    floor_label = "process-floor-native" if "process-floor-native" in found else "process-floor-setsid"
    floor_name = "Java floor (posix_spawn, new session)" if floor_label == "process-floor-native" \
        else "Java floor (shipped launch + setsid)"
    floor_done = num(found, floor_label, "all_done_s")
    floor_cpu = num(found, floor_label, "cpu_ms_per_command")
    setsid_cpu = num(found, "process-floor-setsid", "cpu_ms_per_command")
    plain_cpu = num(found, "process-floor-plain", "cpu_ms_per_command")
    # adnanh stores nothing before its answer: above the durable floor, no receiver that does can follow it.
    ratio_row("adnanh: accepted/s while its commands run", num(found, "adnanh", "accepted_per_s"), "/s",
              "durable floor without jobs", durable, "(is the goal above the floor?)", None)
    for label in ("buildhook-sqlite", "buildhook-pg"):
        if label not in found:
            continue
        ratio_row(f"{label}: accepted/s while jobs run", num(found, label, "accepted_per_s"), "/s",
                  "adnanh", num(found, "adnanh", "accepted_per_s"), ">= 1.00", lambda r: r >= 1.0)
        ratio_row(f"{label}: accepted/s while jobs run", num(found, label, "accepted_per_s"), "/s",
                  "durable floor without jobs", durable, "(floor)", None)
        bound_row(f"{label}: paced answer p99", num(found, label + "-paced", "p99_ms"), "ms",
                  "adnanh", num(found, "adnanh-paced", "p99_ms"), "<= 15 ms", lambda v: v <= 15)
        bound_row(f"{label}: paced send -> command start p50", num(found, label + "-paced", "start_p50_ms"), "ms",
                  "adnanh", num(found, "adnanh-paced", "start_p50_ms"), "<= 10 ms", lambda v: v <= 10)
        cpu = num(found, label, "cpu_ms_per_delivery")
        ratio_row(f"{label}: CPU per delivery", cpu, "ms", "adnanh", num(found, "adnanh", "cpu_ms_per_delivery"),
                  "<= 1.50", lambda r: r <= 1.5)
        ratio_row(f"{label}: CPU per delivery", cpu, "ms", floor_name, floor_cpu,
                  "(floor)", None)
        done = num(found, label, "all_done_s")
        ratio_row(f"{label}: all commands done", done, "s", "adnanh", num(found, "adnanh", "all_done_s"),
                  "<= 1.50", lambda r: r <= 1.5)
        ratio_row(f"{label}: all commands done", done, "s", floor_name, floor_done,
                  "(floor)", None)
    # The shipped JVM options against the ones shipped before (jspawnhelper) and against C2, same run.
    for label, ref_label, ref_name in (("buildhook-sqlite", "buildhook-sqlite-setsid", "launch before (VFORK + setsid exec)"),
                                       ("buildhook-sqlite", "buildhook-sqlite-spawnhelper", "options before (jspawnhelper)"),
                                       ("buildhook-sqlite", "buildhook-sqlite-c2", "C2 (JIT defaults, VFORK)")):
        if ref_label not in found:
            continue
        for key, unit, what in (("cpu_ms_per_delivery", "ms", "CPU per delivery"), ("all_done_s", "s", "all commands done"),
                                ("accepted_per_s", "/s", "accepted/s while jobs run")):
            ratio_row(f"shipped JVM options: {what}", num(found, label, key), unit, ref_name,
                      num(found, ref_label, key), "(trade)", None)
    if floor_label == "process-floor-native" and setsid_cpu is not None:
        ratio_row("Java floor: CPU per command, posix_spawn", floor_cpu, "ms", "VFORK + setsid exec (before)",
                  setsid_cpu, "(floor)", None)
        ratio_row("Java floor: commands by 4 threads, posix_spawn", floor_done, "s", "VFORK + setsid exec (before)",
                  num(found, "process-floor-setsid", "all_done_s"), "(floor)", None)
    spawnhelper_cpu = num(found, "process-floor-spawnhelper", "cpu_ms_per_command")
    if setsid_cpu is not None and spawnhelper_cpu is not None:
        ratio_row("Java floor: CPU per command, VFORK + setsid", setsid_cpu, "ms",
                  "through jspawnhelper + setsid", spawnhelper_cpu, "(floor)", None)
    if setsid_cpu is not None and plain_cpu is not None:
        ratio_row("Java floor: CPU per command, VFORK + setsid", setsid_cpu, "ms", "VFORK without setsid", plain_cpu,
                  "(floor)", None)
    if floor_cpu is not None:
        ratio_row(f"{floor_name}: CPU per command", floor_cpu, "ms", "adnanh (receiver + command)",
                  num(found, "adnanh", "cpu_ms_per_delivery"), "(floor)", None)
    for key, unit, what in (("first_202_ms", "ms", "start-up to first 202"), ("rss_mib", "MiB", "RSS after 10 s idle")):
        ratio_row(f"{what}, shipped JVM options", num(found, "startup-shipped", key), unit,
                  "JVM defaults", num(found, "startup-jvm-defaults", key), "(< 2 s, < 150 MB)", None)
        ratio_row(f"{what}, PostgreSQL, shipped JVM options", num(found, "startup-pg-shipped", key), unit,
                  "SQLite", num(found, "startup-shipped", key), "(< 2 s, < 150 MB)", None)
    ratio_row("RSS after 10 s idle, PostgreSQL: the node + its watchdog's RSS (shared pages twice)",
              _sum(num(found, "startup-pg-shipped", "rss_mib"), num(found, "startup-pg-shipped", "watchdog_rss_mib")),
              "MiB", "SQLite (no watchdog)", num(found, "startup-shipped", "rss_mib"), "(< 150 MB)", None)
    ratio_row("RSS after 10 s idle, PostgreSQL: the node + its watchdog's own pages",
              _sum(num(found, "startup-pg-shipped", "rss_mib"),
                   num(found, "startup-pg-shipped", "watchdog_private_mib")),
              "MiB", "SQLite (no watchdog)", num(found, "startup-shipped", "rss_mib"), "(< 150 MB)", None)

    widths = [max(len(str(r[i])) for r in rows + [("what", "figure", "reference (same run)", "ratio", "goal",
                                                     "verdict")]) for i in range(6)]
    header = ("what", "figure", "reference (same run)", "ratio", "goal", "verdict")
    print()
    print("# summary: each figure against its reference of this run")
    for r in [header] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))


if __name__ == "__main__":
    main()
