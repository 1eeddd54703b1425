#!/usr/bin/python3
"""The images of deploy/docker/Dockerfile cannot be built here (no container
registry to pull debian:bookworm-slim from), so this checks statically what a
build would find out at run time: every shared library a built service links
(ldd) comes either from the suite's own build tree (which the Dockerfile
copies) or from a Debian package (dpkg -S) that the runtime stage's package
list installs, directly or as a dependency (dpkg-query Depends, recursively).

    k8s_dockerfile_test.py --dockerfile=deploy/docker/Dockerfile \
        --build-dir=build SERVICE_BINARY...
"""
import argparse
import os
import re
import subprocess
import sys


def runtime_packages(dockerfile):
    with open(dockerfile, encoding="utf-8") as f:
        text = f.read()
    m = re.search(r"# BEGIN runtime packages\n(.*?)# END runtime packages", text, re.S)
    if not m:
        sys.exit(f"{dockerfile}: no '# BEGIN runtime packages' ... '# END' block")
    block = m.group(1).split("--no-install-recommends", 1)[-1]
    return {w for w in re.findall(r"[a-z0-9][a-z0-9+.:-]+", block.split("&&")[0])}


def installed_depends():
    """Package -> the packages its Depends and Pre-Depends name (all
    alternatives, since any may satisfy a clause), for every installed one."""
    run = subprocess.run(["dpkg-query", "-W", "-f=${Package}\t${Depends}, ${Pre-Depends}\n"],
                         capture_output=True, text=True, check=True)
    deps = {}
    for line in run.stdout.splitlines():
        package, _, rest = line.partition("\t")
        names = set()
        for clause in rest.split(","):
            for alt in clause.split("|"):
                name = alt.strip().split(" ", 1)[0].split(":", 1)[0]
                if name:
                    names.add(name)
        deps.setdefault(package, set()).update(names)
    return deps


def closure(packages, deps):
    seen, todo = set(), list(packages)
    while todo:
        p = todo.pop()
        if p not in seen:
            seen.add(p)
            todo.extend(deps.get(p, set()) - seen)
    return seen


def owners(libraries):
    """Library path -> its Debian package, with one dpkg -S for them all. /lib
    is a link to /usr/lib on bookworm and dpkg knows only one spelling."""
    spellings = {}
    for lib in libraries:
        for path in {lib, os.path.realpath(lib)}:
            alt = path[4:] if path.startswith("/usr/") else "/usr" + path
            spellings[path] = lib
            spellings[alt] = lib
    run = subprocess.run(["dpkg", "-S"] + sorted(spellings), capture_output=True, text=True)
    found = {}
    for line in run.stdout.splitlines():
        package, _, path = line.partition(": ")
        if path.strip() in spellings:
            found[spellings[path.strip()]] = package.split(":", 1)[0].split(",")[0].strip()
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dockerfile", required=True)
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("binaries", nargs="+")
    opts = ap.parse_args()
    build_dir = os.path.realpath(opts.build_dir)
    listed = runtime_packages(opts.dockerfile)
    # libc6 is essential: in every Debian image.
    installed = closure(listed | {"libc6"}, installed_depends())
    failures = []
    needs = []  # (binary, library path)
    for binary in opts.binaries:
        if not os.access(binary, os.X_OK):
            failures.append(f"{binary}: not built")
            continue
        ldd = subprocess.run(["ldd", binary], capture_output=True, text=True)
        for line in ldd.stdout.splitlines():
            m = re.match(r"\s*(\S+) => (\S+)", line)
            if not m:
                continue
            name, path = m.groups()
            if path == "not":
                failures.append(f"{binary}: {name} not found")
            elif not os.path.realpath(path).startswith(build_dir + os.sep):
                needs.append((binary, path))  # (the suite's own: the Dockerfile copies them)
    package_of = owners({path for _, path in needs})
    for binary, path in needs:
        pkg = package_of.get(path)
        if pkg is None:
            failures.append(f"{binary}: {path} belongs to no Debian package")
        elif pkg not in installed:
            failures.append(f"{binary}: {path} is in {pkg}, which the runtime stage "
                            "does not install")
    for f in failures:
        print("FAIL:", f)
    print(f"dockerfile runtime packages: {len(opts.binaries)} binaries, "
          f"{len(listed)} packages listed, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
