#!/usr/bin/env bash
# Create (once) and cache the virtual environments of the real tier.
#   tools/real-tier/build-venvs.sh [kolla|kolla-2024.1|openstack|nova|all]   (default: all)
# Idempotent: a venv is rebuilt only when its requirements file changed (stamp = file hash).
# Location: $KOLLA_WIZARD_REAL_TIER_HOME or ~/.cache/kolla-wizard/real-tier.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="${KOLLA_WIZARD_REAL_TIER_HOME:-$HOME/.cache/kolla-wizard/real-tier}"
python="${PYTHON:-python3}"
mkdir -p "$root"

build() {  # build NAME REQUIREMENTS
  local name="$1" req="$here/$2" venv="$root/venv-$1"
  local want; want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
    echo "real-tier: venv-$name is up to date"
    return 0
  fi
  local start=$SECONDS
  # No stamp until pip succeeded: an interrupted build is redone next time.
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req"
  echo "$want" > "$venv/.stamp"
  echo "real-tier: built venv-$name in $((SECONDS - start)) s ($(du -sm "$venv" | cut -f1) MB)"
}

what="${1:-all}"
case "$what" in
  kolla) build kolla requirements-kolla.txt ;;
  kolla-2024.1) build kolla-2024.1 requirements-kolla-2024.1.txt ;;
  openstack) build openstack requirements-openstack.txt ;;
  nova) build nova requirements-nova.txt ;;
  all)
    build kolla requirements-kolla.txt
    build kolla-2024.1 requirements-kolla-2024.1.txt
    build openstack requirements-openstack.txt
    build nova requirements-nova.txt ;;
  *) echo "usage: $0 [kolla|kolla-2024.1|openstack|nova|all]" >&2; exit 2 ;;
esac
