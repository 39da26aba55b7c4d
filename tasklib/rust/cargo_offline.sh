#!/usr/bin/env bash
# Runs cargo for the rain_task workspace (this directory) with the crates Debian packages as
# source (apt-get install librust-serde-json-dev librust-serde-derive-dev), offline: a private
# CARGO_HOME whose config replaces crates.io by /usr/share/cargo/registry. Arguments go to
# cargo, e.g.
#
#   tasklib/rust/cargo_offline.sh build --release -p rain_task_example
#
# The same Cargo.toml builds with the normal crates.io registry on machines that reach it:
# run plain `cargo` there (or set RAIN_CARGO_ONLINE=1 to make this script do so).
# Environment: CARGO (the cargo binary; default: cargo on PATH, then ~/.cargo/bin/cargo),
# RAIN_CARGO_REGISTRY (default /usr/share/cargo/registry), RAIN_CARGO_HOME (the private cargo
# home; default target/cargo-home here).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cargo="${CARGO:-}"
if [ -z "$cargo" ]; then
  if command -v cargo >/dev/null 2>&1; then
    cargo="$(command -v cargo)"
  elif [ -x "${HOME:-/root}/.cargo/bin/cargo" ]; then
    cargo="${HOME:-/root}/.cargo/bin/cargo"
  elif [ -x /root/.cargo/bin/cargo ]; then
    cargo=/root/.cargo/bin/cargo
  fi
fi
if [ -z "$cargo" ]; then
  echo "cargo_offline.sh: cargo not found (install Rust, or set CARGO=/path/to/cargo)" >&2
  exit 127
fi
# rustup's cargo proxy finds its toolchains through RUSTUP_HOME, which defaults to
# $HOME/.rustup: keep that when CARGO_HOME moves.
export RUSTUP_HOME="${RUSTUP_HOME:-${HOME:-/root}/.rustup}"
case "$cargo" in
  */*) PATH="$(dirname "$cargo"):$PATH" ;; # rustc next to cargo
esac
export PATH

if [ "${RAIN_CARGO_ONLINE:-0}" = 1 ]; then
  cd "$here"
  exec "$cargo" "$@"
fi

registry="${RAIN_CARGO_REGISTRY:-/usr/share/cargo/registry}"
if [ ! -d "$registry" ]; then
  echo "cargo_offline.sh: $registry does not exist: apt-get install librust-serde-json-dev" \
    "librust-serde-derive-dev (or set RAIN_CARGO_ONLINE=1 where crates.io is reachable)" >&2
  exit 1
fi
home="${RAIN_CARGO_HOME:-$here/target/cargo-home}"
mkdir -p "$home"
config="[source.crates-io]
replace-with = \"debian\"

[source.debian]
directory = \"$registry\"

[net]
offline = true
"
# Rewritten only when it changes, so concurrent builds do not see a half-written file.
if [ "$(cat "$home/config.toml" 2>/dev/null || true)" != "${config%$'\n'}" ]; then
  printf '%s' "$config" >"$home/config.toml.$$"
  mv -f "$home/config.toml.$$" "$home/config.toml"
fi
export CARGO_HOME="$home"
cd "$here"
exec "$cargo" "$@"
