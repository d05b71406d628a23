#!/usr/bin/env bash
# Fuzz everything that reads outside input: each cargo-fuzz target in
# crates/core/fuzz for FUZZ_SECONDS (default 60), one after the other, in one
# process each (the machine is shared). Not part of `make test`.
#
#   FUZZ_SECONDS=300 scripts/fuzz.sh                # every target, 5 minutes each
#   FUZZ_TARGETS="sse_stream macros" scripts/fuzz.sh
#   FUZZ_TOOLCHAIN=stable scripts/fuzz.sh           # skip nightly even if installed
#   FUZZ_KEEP_GOING=1 scripts/fuzz.sh               # fuzz the whole time, collecting every finding
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

# By default a target stops at its first finding (libFuzzer's way); with
# FUZZ_KEEP_GOING=1 it runs in one forked worker the whole time and keeps every
# crash, timeout and OOM it meets.
keep_going=()
if [ "${FUZZ_KEEP_GOING:-0}" = 1 ]; then
  keep_going=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
fi

summary=()
failed=0
for target in "${targets[@]}"; do
  log="fuzz/logs/$target.log"
  echo "fuzz.sh: $target for ${seconds}s (log: crates/core/$log)"
  mkdir -p "fuzz/artifacts/$target"
  before=$(find "fuzz/artifacts/$target" -type f | wc -l)
  status=ok
  start=$(date +%s)
  if ! "${cargo_cmd[@]}" fuzz run "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout="$timeout_secs" \
    -max_len="$(max_len "$target")" -print_final_stats=1 "${keep_going[@]}" >"$log" 2>&1; then
    status="FAILED: $(grep -m1 -oE '(deadly signal|ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+)' "$log" || echo 'see log')"
  fi
  took=$(($(date +%s) - start))
  # One process: libFuzzer's final stats. Forked: its last progress line.
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  rate=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1 || true)
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)
  if [ -n "$last" ]; then
    runs=${last%%:*}
    runs=${runs#\#}
    fuzzed=$(grep -oE ' time: [0-9]+s' <<<"$last" | grep -oE '[0-9]+' || true)
    rate=$((runs / ${fuzzed:-1}))
    found=$(grep -oE 'oom/timeout/crash: [0-9/]+' <<<"$last" | grep -oE '[0-9/]+$' || true)
    [ "$found" = 0/0/0 ] || status="FAILED: oom/timeout/crash $found"
  fi
  new_artifacts=$(($(find "fuzz/artifacts/$target" -type f | wc -l) - before))
  if [ "$new_artifacts" -gt 0 ] && [ "$status" = ok ]; then
    status="FAILED: $new_artifacts new artifacts"
  fi
  [ "$status" = ok ] || failed=1
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  summary+=("$(printf '%-20s %6ss %12s %8s %7s  %s' "$target" "$took" "${runs:-?}" "${rate:-?}" "$corpus" "$status")")
  if [ "$status" != ok ]; then
    grep -m3 -A3 'panicked at' "$log" >&2 || tail -n 20 "$log" >&2
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
