#!/usr/bin/python3
"""Live observability test (issue 9).

Starts Debian's prometheus (own storage dir, free port, 1 s scrape and rule
evaluation, the rules of deploy/prometheus/rules/) scraping the five real
services while deploy/local/run.sh --demo plays a simulated day on free
ports. Then evaluates, through the HTTP API (/api/v1/query):
  * every query of every panel of every dashboard in deploy/grafana/dashboards
    (template variables $region, $priority, $partner -> ".*"),
  * every recording rule's expression, and its recorded series,
  * every alerting rule's expression with its threshold comparisons removed
    ("x > 0.1" -> "x"; see strip_thresholds), which leaves the ratio or
    metric the alert watches: an alert that does not fire in a healthy demo
    must still have its underlying series,
and fails naming each query that returns no series (or an error), and any
rule Prometheus reports as unhealthy.

The demo day files no complaints and answers no surveys, so after it
obs_demo_extras (tests/ops/obs_demo_extras.cc) files, acknowledges, resolves
and reopens complaints and answers some surveys on the same suite.

Usage: obs_live_query_test.py SOURCE_DIR BUILD_DIR WORK_DIR EXTRAS_BINARY
Stdlib only.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

SERVICES = ["intake", "dispatch", "parts", "complaint", "satisfaction"]
PROMETHEUS = "/usr/bin/prometheus"
DEMO_TIMEOUT_S = 150
TEMPLATE_VARS = {"$region": ".*", "$priority": ".*", "$partner": ".*"}


def free_ports(n):
    """n distinct free loopback ports (all bound at once, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def http_get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def query(base, expr):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        body = json.loads(http_get(url))
    except urllib.error.HTTPError as e:
        return None, f"HTTP {e.code}: {e.read().decode()[:300]}"
    except Exception as e:  # noqa: BLE001 - report any failure as the query's
        return None, str(e)
    if body.get("status") != "success":
        return None, body.get("error", "not success")
    return body["data"]["result"], None


def strip_thresholds(expr):
    """Removes comparisons against a number: 'a > 0.1 and b < 1' -> 'a and b'."""
    return re.sub(r"\s*(?:>=|<=|==|!=|>|<)\s*(?:bool\s+)?-?[0-9][0-9.eE+]*", "", expr)


def dashboard_queries(source_dir):
    out = []
    ddir = os.path.join(source_dir, "deploy", "grafana", "dashboards")
    files = sorted(f for f in os.listdir(ddir) if f.endswith(".json"))
    if not files:
        raise SystemExit(f"no dashboards in {ddir}")
    for name in files:
        with open(os.path.join(ddir, name), encoding="utf-8") as f:
            board = json.load(f)
        for panel in board.get("panels", []):
            for t in panel.get("targets", []):
                expr = t.get("expr", "")
                for var, value in TEMPLATE_VARS.items():
                    expr = expr.replace(var, value)
                if "$" in expr:
                    raise SystemExit(f"{name}: panel '{panel['title']}': unknown variable in {expr}")
                out.append((f"dashboard {board['title']} / panel '{panel['title']}' {t['refId']}", expr))
        # A template variable's label_values(metric, label) needs the metric.
        for v in board.get("templating", {}).get("list", []):
            m = re.match(r"label_values\((\w+),\s*(\w+)\)", v.get("definition", ""))
            if m:
                out.append((f"dashboard {board['title']} / variable ${v['name']}",
                            f'{m.group(1)}{{{m.group(2)}!=""}}'))
    return out


def main():
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    source_dir, build_dir, work_parent, extras = sys.argv[1:]
    os.makedirs(work_parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix="obs_live_", dir=work_parent)
    started = time.monotonic()
    ports = free_ports(11)
    prom_port = ports[10]
    env = dict(os.environ)
    env.update({
        "AFTERSALES_VAR_DIR": os.path.join(work, "var"),
        "AFTERSALES_BUILD_DIR": build_dir,
    })
    targets = {}
    for i, s in enumerate(SERVICES):
        env[f"AFTERSALES_{s.upper()}_GRPC_PORT"] = str(ports[2 * i])
        env[f"AFTERSALES_{s.upper()}_METRICS_PORT"] = str(ports[2 * i + 1])
        targets[s] = f"127.0.0.1:{ports[2 * i + 1]}"

    rules_dir = os.path.join(source_dir, "deploy", "prometheus", "rules")
    rule_files = sorted(os.path.join(rules_dir, f) for f in os.listdir(rules_dir)
                        if f.endswith(".yml"))
    config = os.path.join(work, "prometheus.yml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n")
        f.write("rule_files:\n" + "".join(f"  - {r}\n" for r in rule_files))
        f.write("scrape_configs:\n")
        for s in SERVICES:
            f.write(f"  - job_name: {s}\n    static_configs:\n      - targets: ['{targets[s]}']\n")

    base = f"http://127.0.0.1:{prom_port}"
    prom_log = open(os.path.join(work, "prometheus.log"), "w")
    prom = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}",
         f"--storage.tsdb.path={os.path.join(work, 'tsdb')}",
         f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
        stdout=prom_log, stderr=subprocess.STDOUT, start_new_session=True)
    demo = None
    demo_lines = []
    failures = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if "Ready" in http_get(f"{base}/-/ready", timeout=2):
                    break
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if prom.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("prometheus did not become ready; log: "
                                 + open(os.path.join(work, "prometheus.log")).read()[-2000:])
            time.sleep(0.2)

        demo = subprocess.Popen(
            ["bash", os.environ.get("OBS_RUN_SH",  # override for debugging only
                                    os.path.join(source_dir, "deploy", "local", "run.sh")),
             "--demo", "--no-build"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        done = threading.Event()
        ok = {"demo": False}

        def read_demo():
            for line in demo.stdout:
                demo_lines.append(line)
                if "run.sh: demo done" in line:
                    ok["demo"] = True
                    done.set()
                elif "demo exited with status" in line or "run.sh: demo failed" in line:
                    done.set()
            done.set()

        threading.Thread(target=read_demo, daemon=True).start()
        if not done.wait(DEMO_TIMEOUT_S) or not ok["demo"]:
            raise SystemExit("the demo did not finish well; its output:\n" + "".join(demo_lines[-60:]))
        print(f"demo done after {time.monotonic() - started:.0f} s")
        tokens = os.path.join(work, "var", "demo", "secrets", "tokens.plain")
        ext = subprocess.run(
            [extras, f"--complaint=127.0.0.1:{env['AFTERSALES_COMPLAINT_GRPC_PORT']}",
             f"--satisfaction=127.0.0.1:{env['AFTERSALES_SATISFACTION_GRPC_PORT']}",
             f"--tokens={tokens}"], capture_output=True, text=True, timeout=60)
        print(ext.stdout + ext.stderr, end="")
        if ext.returncode != 0:
            raise SystemExit(f"obs_demo_extras failed with status {ext.returncode}")

        # A few more scrapes and rule evaluations after the last change, so
        # every series has the two samples rate() needs.
        time.sleep(6)
        up, err = query(base, 'up{job=~"intake|dispatch|parts|complaint|satisfaction"} == 1')
        if err or len(up or []) != 5:
            failures.append(f"up: want all 5 services scraped, got {up} {err or ''}")

        checks = dashboard_queries(source_dir)
        rules = json.loads(http_get(f"{base}/api/v1/rules"))["data"]["groups"]
        loaded = 0
        for g in rules:
            for r in g["rules"]:
                loaded += 1
                if r.get("health") == "err":
                    failures.append(f"rule {r['name']} ({g['name']}): unhealthy: {r.get('lastError')}")
                if r["type"] == "recording":
                    checks.append((f"recording rule {r['name']} (expression)", r["query"]))
                    checks.append((f"recording rule {r['name']} (recorded series)", r["name"]))
                else:
                    checks.append((f"alert {r['name']} (expression without thresholds)",
                                   strip_thresholds(r["query"])))
        if loaded == 0:
            failures.append("prometheus loaded no rules")
        # Recording rules chain (one reads another): give late ones a retry.
        pending = checks
        for attempt in range(3):
            missing = []
            for name, expr in pending:
                result, err = query(base, expr)
                if err or not result:
                    missing.append((name, expr, err))
            if not missing:
                break
            pending = [(n, e) for n, e, _ in missing]
            time.sleep(2)
        for name, expr, err in missing:
            failures.append(f"{name}: {'error ' + err if err else 'no series'}\n    query: {expr}")
        print(f"{len(checks)} queries evaluated ({loaded} rules loaded), "
              f"{len(missing)} without series, in {time.monotonic() - started:.0f} s")
    finally:
        if demo is not None and demo.poll() is None:
            os.killpg(demo.pid, signal.SIGTERM)  # run.sh stops its services
            try:
                demo.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(demo.pid, signal.SIGKILL)
                demo.wait()
        if prom.poll() is None:
            prom.terminate()
            try:
                prom.wait(20)
            except subprocess.TimeoutExpired:
                prom.kill()
                prom.wait()
        prom_log.close()
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        print(f"(work dir kept: {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("all dashboard and rule queries return series")
    return 0


if __name__ == "__main__":
    sys.exit(main())
