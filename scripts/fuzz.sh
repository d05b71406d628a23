#!/usr/bin/env bash
# Fuzz everything that reads outside input: each cargo-fuzz target in
# crates/core/fuzz for FUZZ_SECONDS (default 60), one after the other, in one
# process each (the machine is shared). Not part of `make test`.
#
#   FUZZ_SECONDS=300 scripts/fuzz.sh                # every target, 5 minutes each
#   FUZZ_TARGETS="sse_stream macros" scripts/fuzz.sh
#   FUZZ_TOOLCHAIN=stable scripts/fuzz.sh           # skip nightly even if installed
#
# cargo-fuzz needs rustc's -Z flags: a nightly toolchain is used when one is
# installed, else the stable one with RUSTC_BOOTSTRAP=1 (no download needed).
# cargo-fuzz itself is installed from crates.io when missing. Crashes, timeouts
# and OOMs are kept in crates/core/fuzz/artifacts/<target>/, the corpora in
# crates/core/fuzz/corpus/<target>/ (seeded from the test fixtures) and each
# run's log in crates/core/fuzz/logs/ (all three are git-ignored). Every target
# runs even if an earlier one failed; the script fails if any did, and ends
# with a table of executions, exec/s and corpus sizes.
set -euo pipefail
cd "$(dirname "$0")/../crates/core"

seconds="${FUZZ_SECONDS:-60}"
export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/confab/fuzz-target}"
# Per-input limits: a slow input is a finding (bounded time), and so is memory.
timeout_secs="${FUZZ_TIMEOUT:-10}"
rss_mb="${FUZZ_RSS_MB:-2048}"

# --- toolchain: nightly when present, else stable with RUSTC_BOOTSTRAP=1 ---------
cargo_cmd=(cargo)
toolchain="${FUZZ_TOOLCHAIN:-auto}"
if [ "$toolchain" = auto ]; then
  toolchain=stable
  if command -v rustup >/dev/null 2>&1 && rustup toolchain list 2>/dev/null | grep -q '^nightly' &&
    cargo +nightly --version >/dev/null 2>&1; then
    toolchain=nightly
  fi
fi
if [ "$toolchain" = nightly ]; then
  cargo_cmd=(cargo +nightly)
else
  # cargo-fuzz passes -Zsanitizer and friends; stable rustc accepts them with this.
  export RUSTC_BOOTSTRAP=1
fi
echo "fuzz.sh: toolchain $toolchain ($("${cargo_cmd[@]}" --version))"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi

# --- seed corpora from the test fixtures (copied once; kept out of git) --------
fx=tests/fixtures
seed() { # seed TARGET FILE... : copy the files into the target's corpus
  local target="$1"
  shift
  mkdir -p "fuzz/corpus/$target"
  local f
  for f in "$@"; do
    [ -f "$f" ] && cp -n "$f" "fuzz/corpus/$target/" 2>/dev/null || true
  done
}
seed_prefixed() { # seed_prefixed TARGET PREFIX-OCTAL FILE... : the files behind a few leading bytes
  local target="$1" prefix="$2"
  shift 2
  mkdir -p "fuzz/corpus/$target"
  local f out
  for f in "$@"; do
    [ -f "$f" ] || continue
    out="fuzz/corpus/$target/${prefix//\\/_}-$(basename "$f")"
    [ -e "$out" ] || { printf "$prefix"; cat "$f"; } >"$out"
  done
}
seed png_chunks "$fx"/cards/*.png "$fx"/cards/*.webp "$fx"/cards/*.charx
seed card_json "$fx"/cards/*.json
seed card_charx "$fx"/cards/*.charx "$fx"/cards/*.json
seed card_image "$fx"/cards/*.webp "$fx"/cards/*.json
seed_prefixed card_text '\000' "$fx"/cards/*.json # as YAML (JSON is YAML)
seed_prefixed card_text '\003' "$fx"/cards/*.json # as .json
# Byte 0 picks the per-event cap, byte 1 seeds the chunking.
seed_prefixed sse_stream '\003\007' "$fx"/streams/*.raw
seed_prefixed sse_stream '\001\052' "$fx"/streams/*.raw
for book in sillytavern novelai agnai risu character_book; do
  seed "book_$book" "$fx"/lorebooks/*
done
seed chat_jsonl "$fx"/chats/*.jsonl
mkdir -p fuzz/corpus/dictionary fuzz/corpus/macros fuzz/logs

all_targets=(png_chunks card_json card_charx card_image card_text sse_stream
  book_sillytavern book_novelai book_agnai book_risu book_character_book
  chat_jsonl dictionary macros)
read -r -a targets <<<"${FUZZ_TARGETS:-${all_targets[*]}}"

echo "fuzz.sh: building ${#targets[@]} targets"
"${cargo_cmd[@]}" fuzz build

max_len() {
  case "$1" in
    png_chunks | card_charx | card_image) echo 4194304 ;; # real cards are up to a few MB
    *) echo 262144 ;;
  esac
}

summary=()
failed=0
for target in "${targets[@]}"; do
  log="fuzz/logs/$target.log"
  echo "fuzz.sh: $target for ${seconds}s (log: crates/core/$log)"
  status=ok
  if ! "${cargo_cmd[@]}" fuzz run "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout_secs" \
    -max_len="$(max_len "$target")" -print_final_stats=1 >"$log" 2>&1; then
    status="FAILED: $(grep -m1 -oE '(deadly signal|ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+)' "$log" || echo 'see log')"
    failed=1
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  summary+=("$(printf '%-20s %6ss %12s %8s %7s  %s' "$target" "$seconds" "${runs:-?}" "${rate:-?}" "$corpus" "$status")")
  if [ "$status" != ok ]; then
    tail -n 40 "$log" >&2
  fi
done

echo
printf '%-20s %7s %12s %8s %7s  %s\n' target time executions exec/s corpus result
printf '%s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  echo "fuzz.sh: findings above; inputs are in crates/core/fuzz/artifacts/" >&2
  exit 1
fi
echo "fuzz.sh: no crashes, timeouts or OOMs"
