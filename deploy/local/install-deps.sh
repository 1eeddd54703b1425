#!/usr/bin/env bash
# Installs the Debian packages listed in deploy/local/packages.txt that are
# not installed yet, and nothing else. Safe to run again: when everything is
# present it only checks (no apt-get update, no sudo).
#
#   deploy/local/install-deps.sh [PACKAGES_FILE]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="${1:-$here/packages.txt}"

if [[ ! -r "$list" ]]; then
  echo "install-deps: cannot read package list $list" >&2
  exit 1
fi
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-deps: dpkg-query not found; this script supports Debian 12 (bookworm) only" >&2
  exit 1
fi

# Package names: strip comments and blanks. A line "package command=NAME"
# is satisfied by any NAME already on PATH (kubectl, say, may come from
# another vendor's package that conflicts with Debian's).
packages=()
while read -r name extra _; do
  [[ -z "$name" ]] && continue
  if [[ "$extra" == command=* ]] && command -v "${extra#command=}" >/dev/null 2>&1; then
    continue
  fi
  packages+=("$name")
done < <(sed -e 's/#.*//' "$list")

missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${#missing[@]} missing package(s): ${missing[*]}"
sudo=()
if ((EUID != 0)); then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: not root and sudo is not available; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=300)
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}"
echo "install-deps: done"
