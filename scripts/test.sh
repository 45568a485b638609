#!/usr/bin/env bash
# The project's test command (README). Builds the binaries the end-to-end tests drive, runs
# the whole Rust suite with nextest (falls back to cargo test where nextest is missing), the
# emergency drill (both variants), then the real-client suites (CosmJS from npm, cosmpy from PyPI, feedparser and the Standard
# Webhooks reference library from PyPI, the Prometheus Python client and promtool, the status
# board in Debian's Chromium through playwright-core) against those binaries.
set -euo pipefail

# need_debian COMMAND PACKAGE: installs Debian's PACKAGE unless COMMAND is already there.
need_debian() {
  command -v "$1" >/dev/null 2>&1 && return
  local sudo=""
  if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}
cd "$(dirname "$0")/.."
# The upgrade tests' fixture binary is behind a feature so `cargo install` leaves it out; in a
# virtual workspace `--features caspur-cli/test-fixtures` is silently ignored, `--all-features`
# (that is the only feature) builds it.
cargo build --workspace --bins --all-features
# The emergency runbook's waits (docs/upgrades.md, run by crates/cli/tests/runbook.rs) use jq.
need_debian jq jq
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
# The emergency drill, both variants, on four validators under caspurvisor; the timelines
# stay in target/drill/ (docs/operators.md, "Emergency drill").
for variant in broken-upgrade late-validator; do
  rm -rf "target/drill/$variant"
  ./target/debug/caspurd drill "--$variant" --dir "target/drill/$variant" >/dev/null
  # Each visor keeps its own copy of every release binary (~12 per drill): the timeline,
  # logs and chain data stay, the copies go, so CI's disk holds only one build.
  find "target/drill/$variant" -type d -name bin -path '*/visor/*' -prune -exec rm -rf {} +
  # The timeline is the drill's artifact: in the CI log as well as in target/drill/.
  echo "== drill --$variant: target/drill/$variant/timeline.md"
  cat "target/drill/$variant/timeline.md"
done
(
  cd tests/cosmjs
  npm ci --no-audit --no-fund --loglevel=error
  CASPURD="$PWD/../../target/debug/caspurd" npm test
)
(
  cd tests/cosmpy
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  CASPURD="$PWD/../../target/debug/caspurd" .venv/bin/python -m unittest -v test_grpc.py
)
(
  cd tests/incidents
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  CASPURD="$PWD/../../target/debug/caspurd" .venv/bin/python -m unittest -v test_incidents.py
)
(
  # promtool (Debian's prometheus package) lints the exposition and checks the rules file.
  need_debian promtool prometheus
  cd tests/monitoring
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
  CASPURD="$PWD/../../target/debug/caspurd" .venv/bin/python -m unittest -v test_monitoring.py
)
(
  # The status board in a real headless Chromium (Debian's chromium, driven by playwright-core).
  need_debian chromium chromium
  cd tests/board
  npm ci --no-audit --no-fund --loglevel=error
  CASPURD="$PWD/../../target/debug/caspurd" CHROMIUM="$(command -v chromium)" npm test
)
