#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian 12 machine (root or passwordless sudo):
# the Debian packages below (skipped when already installed), the pinned Deno from npm
# (package.json / package-lock.json) and the npm packages of deno.lock. Used by both
# `bash tests/run.sh` (the README's test command) and `.ci/run`, so the list lives only here.
# RAIN_SKIP_APT=1 skips the Debian step (for a machine where you installed them yourself).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

# Python test dependencies (the client itself needs only the standard library)
packages=(python3 python3-pytest python3-cloudpickle python3-cbor2 python3-pytest-timeout)
packages+=(chromium) # the dashboard's browser tests, driven by npm playwright-core
packages+=(libsvm-tools) # svm-train, svm-predict: the libsvm example (tests/test_examples_programs.py)
packages+=(openssh-server openssh-client iproute2) # multi-host tests (tests/test_multihost.py)
packages+=(python3-pip python3-setuptools python3-wheel) # pip install ./client_py, offline (tests/test_pip_install.py)
packages+=(g++ make cmake nlohmann-json3-dev) # the C++ tasklib and its example (tests/test_tasklib_cpp.py)
packages+=(librust-serde-dev librust-serde-derive-dev librust-serde-json-dev) # crates of the Rust tasklib, built offline (tasklib/rust/cargo_offline.sh, tests/test_tasklib_rust.py)

if [ "${RAIN_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo -n)
    echo "install_test_deps: apt-get install ${missing[*]}"
    "${sudo[@]}" apt-get update -qq </dev/null
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  else
    echo "install_test_deps: Debian packages already installed"
  fi
fi

# Deno (pinned in package.json) and the npm packages of deno.lock
if [ -f package-lock.json ] && [ "${CI:-}" = true ]; then
  npm ci --no-audit --no-fund </dev/null
elif [ ! -x node_modules/.bin/deno ]; then
  npm install --no-audit --no-fund </dev/null
fi
# (Only when node_modules/ is not laid out yet, or lacks a package added to package.json since,
# e.g. pyright: `deno install` may replace the deno package, and with it the binary of a rain
# that is running from this tree.)
if [ ! -d node_modules/.deno ] || [ ! -e node_modules/pyright/index.js ]; then
  node_modules/.bin/deno install </dev/null
fi

node_modules/.bin/deno --version | head -n 1
