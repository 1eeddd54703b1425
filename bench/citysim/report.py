#!/usr/bin/env python3
"""Combines citysim JSON reports (one per day x policy) into results.json and
results.md and prints the table. With --check it also asserts what the smoke
test wants: every order reached intake and is in a known state, every
compliance figure is in [0, 1], the runs of a day saw the same order stream,
no client call failed, work was done.

usage: report.py OUT_DIR RUN.json... [--check] [--command CMD]
"""
import json
import sys

CLOCKS = ["first_contact", "dispatch", "arrival", "resolution", "follow_up"]


def pct(x):
    return f"{100 * x:.1f}%"


def rows(runs):
    out = []
    for r in runs:
        sla = r["sla"]
        u, t, un = r["utilisation"], r["travel"], r["unassigned"]
        row = {
            "day": r["day"], "policy": r["label"], "orders": r["orders_in_intake"],
        }
        for c in CLOCKS:
            row[c] = sla[c]["compliance"]
            row[c + "_decided"] = sla[c]["met"] + sla[c]["breached"]
            row[c + "_counts"] = f"{sla[c]['met']} / {sla[c]['breached']} / {sla[c]['running']}"
        row.update({
            "travel_km_mean": t["km_mean"], "travel_km_p90": t["km_p90"],
            "travel_min_mean": t["minutes_mean"],
            "jobs_gini": u["jobs_gini"], "busy_gini": u["busy_gini"],
            "busy_p90_p10": (u["busy_hours_p90"] / u["busy_hours_p10"]
                             if u["busy_hours_p10"] > 0 else None),
            "busy_share": u["busy_share_of_shift_mean"],
            "busy_p90_p10_working": (u["busy_hours_p90_working"] / u["busy_hours_p10_working"]
                                     if u.get("busy_hours_p10_working") else None),
            "idle_engineers": u["engineers_without_jobs"],
            "never_assigned": un["never_assigned"],
            "assigned_not_reached": un["assigned_not_reached"],
            "queue_at_end": un["dispatch_queue_at_end"],
            "first_offer": (r["offers"]["first_offer_accepted"] / r["offers"]["accepted"]
                            if r["offers"]["accepted"] else 0),
            "real_s": r["run"]["real_seconds"],
        })
        out.append(row)
    return out


def markdown(table):
    """One column per run (day / policy), one row per figure."""
    def ratio(r):
        return f"{r['busy_p90_p10']:.2f}" if r["busy_p90_p10"] else "∞ (p10 = 0)"
    figures = [("orders", lambda r: str(r["orders"]))]
    figures += [(f"SLA {c.replace('_', ' ')} compliance", lambda r, c=c: pct(r[c]))
                for c in CLOCKS]
    figures += [(f"{c.replace('_', ' ')} clocks met / breached / running at 21:00",
                 lambda r, c=c: r[c + "_counts"]) for c in ("arrival", "resolution")]
    figures += [
        ("travel per order, km (mean / p90)",
         lambda r: f"{r['travel_km_mean']:.2f} / {r['travel_km_p90']:.2f}"),
        ("travel per order, min (mean)", lambda r: f"{r['travel_min_mean']:.1f}"),
        ("jobs per engineer, Gini", lambda r: f"{r['jobs_gini']:.3f}"),
        ("busy hours per engineer, Gini", lambda r: f"{r['busy_gini']:.3f}"),
        ("busy hours p90 / p10", ratio),
        ("busy hours p90 / p10, engineers with work",
         lambda r: f"{r['busy_p90_p10_working']:.2f}" if r["busy_p90_p10_working"] else "n/a"),
        ("busy share of shift (mean)", lambda r: pct(r["busy_share"])),
        ("engineers without a job", lambda r: str(r["idle_engineers"])),
        ("orders never assigned", lambda r: str(r["never_assigned"])),
        ("orders assigned, not reached by 21:00", lambda r: str(r["assigned_not_reached"])),
        ("accepted at the first offer", lambda r: pct(r["first_offer"])),
        ("real seconds", lambda r: f"{r['real_s']:.0f}"),
    ]
    lines = ["| | " + " | ".join(f"{r['day']} / {r['policy']}" for r in table) + " |",
             "|---|" + "---|" * len(table)]
    for name, fn in figures:
        lines.append(f"| {name} | " + " | ".join(fn(r) for r in table) + " |")
    return "\n".join(lines) + "\n"


def check(runs):
    problems = []
    for r in runs:
        name = f"{r['day']}/{r['label']}"
        if r["orders_created"] != r["orders_in_stream"]:
            problems.append(f"{name}: created {r['orders_created']} of {r['orders_in_stream']}")
        if r["orders_in_intake"] != r["orders_created"] or \
                r["orders_tracked_in_intake"] != r["orders_created"]:
            problems.append(f"{name}: intake lists {r['orders_in_intake']} orders "
                            f"({r['orders_tracked_in_intake']} of ours), created {r['orders_created']}")
        if r["orders_in_known_state"] != r["orders_in_intake"]:
            problems.append(f"{name}: {r['orders_in_intake'] - r['orders_in_known_state']} "
                            f"orders in an unexpected state: {r['states']}")
        for c in CLOCKS:
            v = r["sla"][c]["compliance"]
            if not 0 <= v <= 1:
                problems.append(f"{name}: {c} compliance {v} outside [0, 1]")
        for c in ("first_contact", "dispatch", "arrival"):
            if r["sla"][c]["met"] + r["sla"][c]["breached"] == 0:
                problems.append(f"{name}: no {c} clock decided")
        if r["field"]["repaired"] == 0 or r["offers"]["accepted"] == 0:
            problems.append(f"{name}: no accepted offers or no repairs")
        if r["run"]["rpc_errors"] != 0:
            problems.append(f"{name}: {r['run']['rpc_errors']} client calls failed")
        for k in ("jobs_gini", "busy_gini"):
            if not 0 <= r["utilisation"][k] <= 1:
                problems.append(f"{name}: {k} outside [0, 1]")
    by_day = {}
    for r in runs:
        by_day.setdefault(r["day"], []).append(r)
    for day, rs in by_day.items():
        digests = {r["order_stream_digest"] for r in rs}
        counts = {r["orders_in_intake"] for r in rs}
        if len(digests) != 1 or len(counts) != 1:
            problems.append(f"{day}: the runs saw different orders: {digests} {counts}")
        if len(rs) < 2:
            problems.append(f"{day}: only {len(rs)} run(s); need suite and baseline")
    return problems


def main():
    args = sys.argv[1:]
    do_check = "--check" in args
    command = ""
    if "--command" in args:
        i = args.index("--command")
        command = args[i + 1]
        del args[i:i + 2]
    args = [a for a in args if a != "--check"]
    if len(args) < 2:
        sys.exit(__doc__)
    out_dir, files = args[0], args[1:]
    runs = [json.load(open(f, encoding="utf-8")) for f in files]
    table = rows(runs)
    md = markdown(table)
    with open(f"{out_dir}/results.json", "w", encoding="utf-8") as f:
        json.dump({"command": command, "runs": runs, "table": table}, f, indent=2)
    with open(f"{out_dir}/results.md", "w", encoding="utf-8") as f:
        f.write(f"Command: `{command}`\n\n" if command else "")
        f.write(md)
    print(md)
    if do_check:
        problems = check(runs)
        for p in problems:
            print("CHECK FAILED:", p)
        if problems:
            sys.exit(1)
        print(f"citysim check: ok ({len(runs)} runs)")


if __name__ == "__main__":
    main()
