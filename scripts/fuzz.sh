#!/usr/bin/env bash
# Fuzz the card reader: each cargo-fuzz target for FUZZ_SECONDS (default 60).
# Needs a nightly toolchain; installs cargo-fuzz when it is missing.
# Not part of `make test`. Crashes are left in crates/core/fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../crates/core"

seconds="${FUZZ_SECONDS:-60}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/confab/fuzz-target}"

if ! rustup toolchain list | grep -q '^nightly'; then
  echo "fuzz.sh: installing the nightly toolchain that cargo-fuzz needs"
  rustup toolchain install nightly --profile minimal ||
    { echo "fuzz.sh: could not install nightly (rustup toolchain install nightly)" >&2; exit 1; }
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

# Seed each corpus with the fixture cards (kept out of git by fuzz/.gitignore).
mkdir -p fuzz/corpus/png_chunks fuzz/corpus/card_json
cp -n tests/fixtures/cards/*.png tests/fixtures/cards/*.webp tests/fixtures/cards/*.charx fuzz/corpus/png_chunks/ 2>/dev/null || true
cp -n tests/fixtures/cards/*.json fuzz/corpus/card_json/ 2>/dev/null || true

for target in png_chunks card_json; do
  echo "fuzz.sh: $target for ${seconds}s"
  cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4194304
done
echo "fuzz.sh: no crashes"
