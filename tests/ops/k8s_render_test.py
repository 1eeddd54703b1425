#!/usr/bin/python3
"""Renders deploy/k8s (base and every overlay) with `kubectl kustomize` and
checks what the rendered manifests do, not how they are written:

- every service is a one-replica StatefulSet with a PVC template holding its
  --data_dir and --backup_dir, gRPC startup/liveness/readiness probes on the
  port its --health_port serves, resource requests and limits, a non-root
  read-only container, the tokens Secret and its TLS Secret mounted where its
  flags point, and only flags its binary defines; intake, complaint and
  satisfaction (only they) get --pii_key_file on their own read-only
  <service>-pii-key Secret;
- each has a ClusterIP and a headless Service, a PodDisruptionBudget and a
  NetworkPolicy selecting its pods; a ServiceMonitor scrapes each once with
  job = the service name;
- the NetworkPolicies admit exactly the peers of deploy/k8s/peers.tsv (in and
  out), the peer addresses in the pods are exactly those, and peers.tsv is
  exactly the set of peers each services/<name>/main.cc consumes;
- overlays put everything in their own namespace, label everything with their
  cell, serve disjoint sets of regions the intake policy knows, and change a
  policy only in the keys they declare.

    k8s_render_test.py --kubectl=/usr/bin/kubectl --source=<repo root>

Offline: kustomize needs no cluster. Needs python3-yaml.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

import yaml

SERVICES = ["intake", "dispatch", "parts", "complaint", "satisfaction"]
# The services that keep customer PII and need their KEK (docs/security.md).
PII_SERVICES = {"intake", "complaint", "satisfaction"}
FAILURES = []


def check(ok, what):
    if not ok:
        FAILURES.append(what)
    return ok


def render(kubectl, directory):
    run = subprocess.run([kubectl, "kustomize", directory], capture_output=True,
                         text=True, timeout=120)
    if run.returncode != 0:
        raise SystemExit(f"kubectl kustomize {directory} failed:\n{run.stderr}")
    return [d for d in yaml.safe_load_all(run.stdout) if d]


def by_kind(docs, kind):
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def read_peers(source):
    pairs = set()
    with open(os.path.join(source, "deploy/k8s/peers.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                client, server = line.split()[:2]
                pairs.add((client, server))
    return pairs


def code_peers(source):
    """(client, server) for every peer name a service's main.cc wires up."""
    pairs = set()
    for svc in SERVICES:
        with open(os.path.join(source, "services", svc, "main.cc"), encoding="utf-8") as f:
            text = f.read()
        for name in set(re.findall(r'"([a-z]+)"', text)):
            if name in SERVICES and name != svc:
                pairs.add((svc, name))
    return pairs


def defined_flags(source, svc):
    """Flags the service's binary defines: the shared libs' and its own."""
    files = glob.glob(os.path.join(source, "libs/**/*.cc"), recursive=True)
    # libs/privacy (--pii_key_file, --pii_previous_key_file) is linked only
    # by the services that keep PII: not a flag of the others' binaries.
    with open(os.path.join(source, "services", svc, "CMakeLists.txt"), encoding="utf-8") as f:
        if "aftersales_privacy" not in f.read():
            files = [p for p in files if os.sep + "privacy" + os.sep not in p]
    files += glob.glob(os.path.join(source, "services", svc, "**/*.cc"), recursive=True)
    flags = set()
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            flags.update(re.findall(r"ABSL_FLAG\(\s*[\w:<>]+\s*,\s*(\w+)", f.read()))
    return flags


def args_of(container):
    out = {}
    for a in container.get("args", []):
        m = re.fullmatch(r"--(\w+)=(.*)", a)
        if check(m is not None, f"{container['name']}: arg {a!r} is not --flag=value"):
            out[m.group(1)] = m.group(2)
    return out


def under(path, mount):
    return path == mount or path.startswith(mount.rstrip("/") + "/")


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def peer_names(rules, key, pods):
    """Services whose pods the podSelector-only peers of `rules` select."""
    names = set()
    for rule in rules:
        for peer in rule.get(key, []):
            if "podSelector" in peer and "namespaceSelector" not in peer:
                for svc, labels in pods.items():
                    if selects(peer["podSelector"], labels):
                        names.add(svc)
    return names


def check_cell(name, docs, source, pairs, flags):
    sts = by_kind(docs, "StatefulSet")
    services = by_kind(docs, "Service")
    pdbs = by_kind(docs, "PodDisruptionBudget")
    netpols = by_kind(docs, "NetworkPolicy")
    configmaps = by_kind(docs, "ConfigMap")
    check(sorted(sts) == sorted(SERVICES), f"{name}: StatefulSets {sorted(sts)}")
    pods = {s: sts[s]["spec"]["template"]["metadata"]["labels"] for s in SERVICES if s in sts}

    for svc in SERVICES:
        if svc not in sts:
            continue
        where = f"{name}/{svc}"
        spec = sts[svc]["spec"]
        pod = spec["template"]["spec"]
        check(spec.get("replicas") == 1, f"{where}: replicas must be 1 (one writer per RocksDB)")
        check(selects(spec["selector"], pods[svc]), f"{where}: selector does not select its pods")
        containers = pod["containers"]
        check(len(containers) == 1, f"{where}: one container")
        c = containers[0]
        args = args_of(c)
        unknown = set(args) - flags[svc]
        check(not unknown, f"{where}: flags the binary does not define: {sorted(unknown)}")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        claims = {t["metadata"]["name"]: t for t in spec.get("volumeClaimTemplates", [])}

        # Data on a PVC from the template; checkpoints on the same volume.
        data = [m for m in mounts.values()
                if m["name"] in claims and under(args.get("data_dir", ""), m["mountPath"])]
        check(len(data) == 1, f"{where}: --data_dir is not on a volumeClaimTemplate volume")
        if data:
            check(under(args.get("backup_dir", ""), data[0]["mountPath"]),
                  f"{where}: --backup_dir is not on the data volume")
            claim = claims[data[0]["name"]]["spec"]
            check(claim.get("resources", {}).get("requests", {}).get("storage"),
                  f"{where}: PVC template without a storage request")
            check(not mounts[data[0]["name"]].get("readOnly"), f"{where}: data mounted read-only")

        # gRPC probes on the plaintext health port the binary serves.
        health = args.get("health_port")
        check(health is not None and ports.get("health") == int(health),
              f"{where}: --health_port and the 'health' container port differ")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            p = c.get(probe, {})
            check("grpc" in p and str(p["grpc"].get("port")) == str(health),
                  f"{where}: {probe} is not a gRPC probe on the health port")
        check(ports.get("grpc") == int(args.get("grpc_port", -1)),
              f"{where}: --grpc_port and the 'grpc' container port differ")
        check(ports.get("metrics") == int(args.get("metrics_port", -1)),
              f"{where}: --metrics_port and the 'metrics' container port differ")
        check(args.get("listen_host") == "0.0.0.0", f"{where}: must listen on all addresses")

        res = c.get("resources", {})
        for kind in ("requests", "limits"):
            check(res.get(kind, {}).get("memory") and (kind == "limits" or res[kind].get("cpu")),
                  f"{where}: resources.{kind} incomplete: {res.get(kind)}")

        psc, csc = pod.get("securityContext", {}), c.get("securityContext", {})
        check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0,
              f"{where}: pod must run as a non-root user")
        check(csc.get("readOnlyRootFilesystem") is True, f"{where}: root fs not read-only")
        check(csc.get("allowPrivilegeEscalation") is False, f"{where}: privilege escalation")
        check(csc.get("capabilities", {}).get("drop") == ["ALL"], f"{where}: capabilities kept")

        # Secrets mounted where the flags read them.
        def secret_behind(flag):
            path = args.get(flag, "")
            for m in mounts.values():
                v = volumes.get(m["name"], {})
                if "secret" in v and under(path, m["mountPath"]):
                    return v["secret"]["secretName"]
            return None
        for flag in ("tokens_file", "service_token_file", "tls_cert", "tls_key", "peer_tls_ca"):
            check(secret_behind(flag), f"{where}: --{flag} is not on a mounted Secret")
        check(secret_behind("tokens_file") == secret_behind("service_token_file"),
              f"{where}: token hashes and service token in different Secrets")
        check(secret_behind("tls_cert") == secret_behind("tls_key") == f"{svc}-tls",
              f"{where}: TLS cert/key not from the Secret {svc}-tls")

        # The PII KEK: its own read-only Secret, for exactly the PII services
        # (the tokens mount is read-only, so the service cannot create it).
        pii_volumes = {v["name"] for v in volumes.values()
                       if v.get("secret", {}).get("secretName", "").endswith("-pii-key")}
        if svc in PII_SERVICES:
            check("pii_key_file" in flags[svc], f"{where}: binary does not define --pii_key_file")
            check(secret_behind("pii_key_file") == f"{svc}-pii-key",
                  f"{where}: --pii_key_file is not on the mounted Secret {svc}-pii-key")
            check(secret_behind("pii_key_file") != secret_behind("tokens_file"),
                  f"{where}: PII key in the tokens Secret")
            check(all(mounts.get(v, {}).get("readOnly") is True for v in pii_volumes),
                  f"{where}: PII key Secret not mounted read-only")
            check(len(pii_volumes) == 1, f"{where}: PII key volumes {sorted(pii_volumes)}")
        else:
            check("pii_key_file" not in args and "pii_previous_key_file" not in args,
                  f"{where}: PII key flags on a service without PII")
            check(not pii_volumes, f"{where}: PII key Secret mounted: {sorted(pii_volumes)}")

        # Policy from the generated ConfigMap, under the service's own key.
        policy = args.get("policy_file", "")
        cm_name = next((volumes[m["name"]]["configMap"]["name"] for m in mounts.values()
                        if "configMap" in volumes.get(m["name"], {})
                        and under(policy, m["mountPath"])), None)
        check(cm_name in configmaps, f"{where}: --policy_file is not on a rendered ConfigMap")
        if cm_name in configmaps:
            check(os.path.basename(policy) in configmaps[cm_name].get("data", {}),
                  f"{where}: ConfigMap {cm_name} has no {os.path.basename(policy)}")
            check(os.path.basename(policy) == f"{svc}.textproto", f"{where}: policy {policy}")

        ann = spec["template"]["metadata"].get("annotations", {})
        check(ann.get("prometheus.io/scrape") == "true" and
              ann.get("prometheus.io/port") == str(ports.get("metrics")),
              f"{where}: Prometheus scrape annotations missing or on the wrong port")

        # Peer addresses: exactly the servers of peers.tsv, at their Services.
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        addrs = {k[len("AFTERSALES_"):-len("_ADDR")].lower(): v for k, v in env.items()
                 if re.fullmatch(r"AFTERSALES_[A-Z]+_ADDR", k)}
        addrs.update({k[:-len("_addr")]: v for k, v in args.items() if k.endswith("_addr")})
        want = {s for c_, s in pairs if c_ == svc}
        check(set(addrs) == want, f"{where}: peer addresses {sorted(addrs)} != peers.tsv {sorted(want)}")
        for peer, addr in addrs.items():
            host, _, port = (addr or "").partition(":")
            target = services.get(host)
            check(target is not None and target["spec"].get("clusterIP") != "None" and
                  selects({"matchLabels": target["spec"]["selector"]}, pods.get(peer, {})) and
                  any(str(p["port"]) == port for p in target["spec"]["ports"]),
                  f"{where}: peer address {addr} is not {peer}'s ClusterIP Service")

        # Services.
        headless = services.get(spec.get("serviceName"))
        check(headless is not None and headless["spec"].get("clusterIP") == "None",
              f"{where}: serviceName is not a headless Service")
        cluster = services.get(svc)
        check(cluster is not None and cluster["spec"].get("clusterIP") != "None" and
              selects({"matchLabels": cluster["spec"]["selector"]}, pods[svc]),
              f"{where}: no ClusterIP Service {svc} selecting its pod")

        pdb = [p for p in pdbs.values() if selects(p["spec"]["selector"], pods[svc])]
        check(len(pdb) == 1, f"{where}: {len(pdb)} PodDisruptionBudgets select it")

        # NetworkPolicy: exactly peers.tsv, both ways.
        pols = [p for p in netpols.values() if selects(p["spec"]["podSelector"], pods[svc])]
        check(len(pols) == 1, f"{where}: {len(pols)} NetworkPolicies select it")
        if pols:
            pol = pols[0]["spec"]
            check(set(pol.get("policyTypes", [])) == {"Ingress", "Egress"},
                  f"{where}: NetworkPolicy must restrict ingress and egress")
            ins = peer_names(pol.get("ingress", []), "from", pods)
            outs = peer_names(pol.get("egress", []), "to", pods)
            want_in = {c_ for c_, s in pairs if s == svc}
            check(ins == want_in, f"{where}: ingress peers {sorted(ins)} != peers.tsv {sorted(want_in)}")
            check(outs == want, f"{where}: egress peers {sorted(outs)} != peers.tsv {sorted(want)}")
            for rule in pol.get("ingress", []):
                sources = rule.get("from", [])
                check(sources and rule.get("ports"), f"{where}: an ingress rule open to all")
                named = {str(p.get("port")) for p in rule.get("ports", [])}
                check(named <= {"grpc", "metrics"},
                      f"{where}: ingress to ports other than grpc/metrics: {named}")
                if "metrics" in named:
                    check(all("podSelector" not in s for s in sources),
                          f"{where}: metrics open to pods of the cell")
            for rule in pol.get("egress", []):
                check(rule.get("to") and rule.get("ports"), f"{where}: an egress rule open to all")
    # A ServiceMonitor, where a cell has one, scrapes each service once with
    # job = the service's name (what the rules and dashboards select on).
    for sm in by_kind(docs, "ServiceMonitor").values():
        where = f"{name}/ServiceMonitor {sm['metadata']['name']}"
        spec = sm["spec"]
        check(spec.get("jobLabel") == "app.kubernetes.io/name", f"{where}: job is not the service name")
        scraped = [v for v in services.values()
                   if selects(spec["selector"], v["metadata"].get("labels", {}))]
        names = sorted(v["metadata"]["labels"].get("app.kubernetes.io/name") for v in scraped)
        check(names == sorted(SERVICES), f"{where}: scrapes {names}")
        ports = {e.get("port") for e in spec.get("endpoints", [])}
        for v in scraped:
            check(ports <= {p["name"] for p in v["spec"]["ports"]},
                  f"{where}: {v['metadata']['name']} lacks port {ports}")
    return sts


def check_overlay(name, docs, base_docs, source, intake_regions):
    namespaces = by_kind(docs, "Namespace")
    check(len(namespaces) == 1, f"{name}: {len(namespaces)} Namespace objects")
    ns = next(iter(namespaces), None)
    cell = None
    for d in docs:
        meta = d["metadata"]
        if d["kind"] != "Namespace":
            check(meta.get("namespace") == ns, f"{name}: {d['kind']}/{meta['name']} not in {ns}")
        labels = meta.get("labels", {})
        cell = cell or labels.get("aftersales.io/cell")
        check(cell and labels.get("aftersales.io/cell") == cell,
              f"{name}: {d['kind']}/{meta['name']} lacks the cell label")
    for s in by_kind(docs, "StatefulSet").values():
        check(s["spec"]["template"]["metadata"]["labels"].get("aftersales.io/cell") == cell,
              f"{name}: pods of {s['metadata']['name']} lack the cell label")
    base_ns = {d["metadata"].get("namespace") for d in base_docs}
    check(base_ns == {None}, f"base: sets a namespace {base_ns}")
    regions = set()
    if ns:
        raw = namespaces[ns]["metadata"].get("annotations", {}).get("aftersales.io/regions", "")
        regions = {r for r in raw.split(",") if r}
        check(regions, f"{name}: namespace without aftersales.io/regions")
        check(regions <= intake_regions,
              f"{name}: regions unknown to the intake policy: {sorted(regions - intake_regions)}")
    return ns, cell, regions


def check_policy_copies(source):
    """An overlay's policy file may differ from its original only in the keys
    its first line declares ("# overlay-of: PATH changes: KEY ...")."""
    for path in glob.glob(os.path.join(source, "deploy/k8s/overlays/*/policies/*")):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        m = re.fullmatch(r"# overlay-of: (\S+) changes: (.+)", lines[0] if lines else "")
        if not check(m, f"{path}: first line must be '# overlay-of: PATH changes: KEYS'"):
            continue
        keys = set(m.group(2).split())
        with open(os.path.join(source, m.group(1)), encoding="utf-8") as f:
            original = f.read().splitlines()

        def body(ls):
            return [l.split("#", 1)[0].rstrip() for l in ls
                    if l.split("#", 1)[0].strip()]
        a, b = body(original), body(lines)
        if not check(len(a) == len(b), f"{path}: not line for line {m.group(1)} (re-copy it)"):
            continue
        changed = {re.split(r"[\s:{]", y.strip(), 1)[0] for x, y in zip(a, b) if x != y}
        check(changed and changed <= keys,
              f"{path}: changes {sorted(changed)}, declares {sorted(keys)}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kubectl", default="kubectl")
    ap.add_argument("--source", default=os.path.join(os.path.dirname(__file__), "../.."))
    opts = ap.parse_args()
    source = os.path.abspath(opts.source)
    k8s = os.path.join(source, "deploy/k8s")

    gen = subprocess.run([sys.executable, os.path.join(k8s, "generate.py"), "--check"],
                         capture_output=True, text=True)
    check(gen.returncode == 0, f"generate.py --check: {gen.stdout}{gen.stderr}")

    pairs = read_peers(source)
    wired = code_peers(source)
    check(pairs == wired, "peers.tsv != the peers services/*/main.cc consume: "
          f"only in peers.tsv {sorted(pairs - wired)}, only in code {sorted(wired - pairs)}")
    flags = {svc: defined_flags(source, svc) for svc in SERVICES}
    with open(os.path.join(source, "deploy/policies/intake.textproto"), encoding="utf-8") as f:
        intake_regions = set(re.findall(r'region_code:\s*"([^"]+)"', f.read()))

    base = render(opts.kubectl, os.path.join(k8s, "base"))
    check_cell("base", base, source, pairs, flags)
    overlays = sorted(glob.glob(os.path.join(k8s, "overlays/*/kustomization.yaml")))
    check(len(overlays) >= 2, f"want at least two cell overlays, found {len(overlays)}")
    seen_ns, seen_cells, seen_regions = set(), set(), set()
    for path in overlays:
        name = os.path.basename(os.path.dirname(path))
        docs = render(opts.kubectl, os.path.dirname(path))
        check_cell(name, docs, source, pairs, flags)
        ns, cell, regions = check_overlay(name, docs, base, source, intake_regions)
        check(ns not in seen_ns, f"{name}: namespace {ns} used by another cell")
        check(cell not in seen_cells, f"{name}: cell label {cell} used by another cell")
        check(not (regions & seen_regions), f"{name}: regions in two cells: {regions & seen_regions}")
        seen_ns.add(ns)
        seen_cells.add(cell)
        seen_regions |= regions
    check_policy_copies(source)

    for f in FAILURES:
        print("FAIL:", f)
    print(f"k8s render: base + {len(overlays)} overlays, {len(FAILURES)} failures")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
