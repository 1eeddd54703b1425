#!/usr/bin/env python3
"""Writes the two dispatch policies citysim compares, both derived from the
suite's own deploy/policies/dispatch.textproto so they follow it:

  suite.textproto    the deployed policy, unchanged except
                     location_stale_after = 16 h (simulated terminals report a
                     position when the engineer arrives somewhere, not every few
                     minutes; idle engineers stay where they are) and its version.
  nearest.textproto  the same, but ranking purely by predicted arrival among
                     eligible engineers: arrival_slack weight 1, every other
                     weight 0, and on_site_job_estimate at its allowed minimum
                     (5 min), so a queued job barely counts: the nearest
                     available qualified engineer (same hard constraints: skill,
                     level, shift, coverage, capacity) gets the offer.

usage: policies.py DEPLOY_POLICY OUT_DIR
"""
import re
import sys


def sub_once(pattern, repl, text, what):
    new, n = re.subn(pattern, repl, text, count=1, flags=re.S)
    if n != 1:
        sys.exit(f"policies.py: cannot find {what} in the deployed dispatch policy")
    return new


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    text = open(sys.argv[1], encoding="utf-8").read()
    base = sub_once(r"location_stale_after \{ seconds: \d+ \}",
                    "location_stale_after { seconds: 57600 }", text, "location_stale_after")
    suite = sub_once(r'ref \{ name: "dispatch" version: "([^"]+)" \}',
                     r'ref { name: "dispatch" version: "\1+citysim" }', base, "ref")
    nearest = sub_once(r'ref \{ name: "dispatch" version: "([^"]+)" \}',
                       r'ref { name: "dispatch" version: "\1+citysim-nearest" }', base, "ref")
    nearest = sub_once(r"weights \{[^}]*\}",
                       "weights {\n  arrival_slack: 1\n  rating: 0\n  first_time_fix: 0\n"
                       "  workload_balance: 0\n  partner_preference: 0\n}",
                       nearest, "weights")
    nearest = sub_once(r"on_site_job_estimate \{ seconds: \d+ \}",
                       "on_site_job_estimate { seconds: 300 }", nearest, "on_site_job_estimate")
    for name, body in (("suite", suite), ("nearest", nearest)):
        with open(f"{sys.argv[2]}/{name}.textproto", "w", encoding="utf-8") as f:
            f.write(body)


if __name__ == "__main__":
    main()
