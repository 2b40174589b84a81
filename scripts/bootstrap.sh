#!/usr/bin/env bash
# Prepare a fresh clone: virtualenv with every dependency, the collection link that makes
# aiplatform.aks.* resolvable, ansible-test's offline pip bootstrap, and the test apiserver binaries.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${VENV:-$ROOT/.venv}
PYTHON=${PYTHON:-python3}

if [[ ! -x $VENV/bin/python ]]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp=$VENV/.requirements.sha256
want=$(cat requirements.txt requirements-test.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-test.txt 2> >(grep -v "^WARNING: Location" >&2)
  echo "$want" > "$stamp"
fi

# The clone is the collection; ansible.cfg points collections_path here.
mkdir -p .collections/ansible_collections/aiplatform
ln -sfn ../../.. .collections/ansible_collections/aiplatform/aks

# Collections from requirements.yml come bundled with the `ansible` package (Galaxy is unreachable offline).
"$VENV/bin/python" - <<'PY'
import subprocess, sys, yaml
wanted = [c['name'] for c in yaml.safe_load(open('requirements.yml'))['collections']]
listed = subprocess.run([sys.prefix + '/bin/ansible-galaxy', 'collection', 'list', '--format', 'json'],
                        capture_output=True, text=True, check=True).stdout
import json
found = set(name for path in json.loads(listed).values() for name in path)
missing = [name for name in wanted if name not in found]
if missing:
    sys.exit('bootstrap: collections missing from the ansible package: %s' % ', '.join(missing))
PY

# ansible-test downloads a get-pip script from a host that is unreachable offline; give it ours.
mkdir -p "$HOME/.ansible/test/cache"
install -m 0644 scripts/ansible-test-get-pip.py "$HOME/.ansible/test/cache/get_pip_24_2.py"

# promtool, which checks and unit-tests the Prometheus rules, from Debian's prometheus package: unpacked into the cache
# that build-kube-assets.sh uses, never installed, so no Prometheus server is set up.
if [[ ! -x $VENV/bin/promtool ]]; then
  promtool_dir=${AIPLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/aiplatform-aks}/promtool
  if [[ ! -x $promtool_dir/usr/bin/promtool ]]; then
    sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
    mkdir -p "$promtool_dir"
    (
      cd "$promtool_dir"
      rm -f prometheus_*.deb
      # a machine whose package lists were never read needs one apt-get update first
      apt-get download prometheus >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download prometheus >/dev/null; }
      dpkg-deb -x prometheus_*.deb . && rm -f prometheus_*.deb
    )
  fi
  ln -sfn "$promtool_dir/usr/bin/promtool" "$VENV/bin/promtool"
fi

# Headless Chromium, which opens the ai_conformance report page in a test: Debian's chromium package from the machine's
# own apt sources.
if ! command -v chromium >/dev/null; then
  sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
  # a machine whose package lists were never read needs one apt-get update first
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 \
    || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
fi

# etcd + kube-apiserver + kubectl for the test bed (cached after the first build).
if [[ -z ${KUBEBUILDER_ASSETS:-} ]]; then
  bash tests/bed/build-kube-assets.sh >/dev/null
fi
echo "bootstrap: ready (venv $VENV)"
