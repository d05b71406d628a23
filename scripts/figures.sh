#!/usr/bin/env bash
# `make figures`: cold start to an interactive library and memory (PSS) idle and with a
# 10,000-message chat open, for the release build and the debug build in the same run,
# with their ratio; then the package sizes.
#
#   scripts/figures.sh RELEASE_APP DEBUG_APP CONFAB_CLI BUNDLE_DIR
#
# Each launch starts the app through tauri-driver under Xvfb, on a fresh copy of one
# seeded library (a character and a 10,000-message chat, imported with the CLI).
# FIGURES_RUNS (default 3) launches per build; the median is shown. FIGURES_MORE
# ("before=PATH,...") adds builds to compare with, in the same run (before/after a change).
# The app logs its start-up steps (CONFAB_LOG=confab_app::startup=info) to stderr, which
# tauri-driver's log collects; figures.mjs reads each launch's lines from there.
set -euo pipefail

RELEASE="${1:?usage: scripts/figures.sh RELEASE_APP DEBUG_APP CONFAB_CLI BUNDLE_DIR}"
DEBUG="${2:?}"
CLI="${3:?}"
BUNDLE_DIR="${4:?}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${CONFAB_FIGURES_PORT:-4544}"
export PATH="$HOME/.cargo/bin:$PATH"
for bin in "$RELEASE" "$DEBUG" "$CLI"; do [[ -x "$bin" ]] || { echo "missing $bin: run 'make bundle app'" >&2; exit 1; }; done
for tool in Xvfb tauri-driver WebKitWebDriver node; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run 'make setup'" >&2; exit 1; }
done

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The library every launch opens: one character and a 10,000-message chat with it,
# as SillyTavern would have saved it (messages of varied length, some Markdown).
TEMPLATE="$WORK/template"
mkdir -p "$TEMPLATE"
CONFAB_DATA_DIR="$TEMPLATE" "$CLI" import "$ROOT/crates/core/tests/fixtures/cards/ccv3_plus_chara__st_default_Seraphina.png" --json >"$WORK/import.json"
CHARACTER="$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const id = lines.map((l) => l.characterId ?? l.character_id).find(Boolean);
  if (!id) { console.error("no character id in: " + JSON.stringify(lines)); process.exit(1); }
  console.log(id);
' "$WORK/import.json")"
node - "$WORK/chat.jsonl" <<'JS'
const fs = require("fs");
const out = [JSON.stringify({ user_name: "User", character_name: "Seraphina", create_date: "2025-01-01@10h00m00s", chat_metadata: {} })];
const words = "the forest glade lantern *smiles softly* amber eyes **quietly** moss river ancient oak tea warmth magic guardian path".split(" ");
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
for (let i = 0; i < 10000; i++) {
  const user = i % 2 === 1;
  const n = user ? 8 + Math.floor(rand() * 30) : 40 + Math.floor(rand() * 120);
  const text = Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]).join(" ");
  out.push(JSON.stringify({ name: user ? "User" : "Seraphina", is_user: user, is_system: false, send_date: "January 1, 2025 10:00am", mes: `${i}: ${text}`, extra: {} }));
}
fs.writeFileSync(process.argv[2], out.join("\n") + "\n");
JS
CONFAB_DATA_DIR="$TEMPLATE" "$CLI" chat import "$WORK/chat.jsonl" --character "$CHARACTER" >/dev/null
echo "seeded library: $(CONFAB_DATA_DIR="$TEMPLATE" "$CLI" info | tr '\n' ' ')"

Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/display" ]] && break; sleep 0.1; done
[[ -s "$WORK/display" ]] || { cat "$WORK/xvfb.log" >&2; echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$(head -1 "$WORK/display")"
export LANG=C.UTF-8 LC_ALL=C.UTF-8 LANGUAGE=en NO_AT_BRIDGE=1
export DBUS_SESSION_BUS_ADDRESS="unix:path=$WORK/no-session-bus"

XDG="$WORK/xdg"
mkdir -p "$XDG/data" "$XDG/config" "$XDG/cache"
CONFAB_LOG="confab_app::startup=info" CONFAB_DATA_DIR="$WORK/data" XDG_DATA_HOME="$XDG/data" XDG_CONFIG_HOME="$XDG/config" XDG_CACHE_HOME="$XDG/cache" \
  tauri-driver --port "$PORT" --native-port $((PORT + 1)) >"$WORK/driver.log" 2>&1 &
DRIVER=$!
PIDS+=("$DRIVER")
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$PORT/status" >/dev/null 2>&1 && break; sleep 0.1; done

echo "measuring (${FIGURES_RUNS:-3} launches per build after one warm-up each; page cache and WebKit caches warm, app data fresh)"
(
  cd "$ROOT/tests/e2e"
  CONFAB_WEBDRIVER="http://127.0.0.1:$PORT" CONFAB_DRIVER_PID="$DRIVER" \
    CONFAB_FIGURES_DATA="$WORK/data" CONFAB_FIGURES_TEMPLATE="$TEMPLATE" CONFAB_FIGURES_XDG="$XDG" \
    CONFAB_FIGURES_LOG="$WORK/driver.log" CONFAB_FIGURES_BUILDS="release=$RELEASE,debug=$DEBUG${FIGURES_MORE:+,$FIGURES_MORE}" CONFAB_FIGURES_RUNS="${FIGURES_RUNS:-3}" \
    node figures.mjs
) || { tail -30 "$WORK/driver.log" >&2; exit 1; }

echo
echo "binaries: release $(du -h "$RELEASE" | cut -f1), debug $(du -h "$DEBUG" | cut -f1)"
"$ROOT/scripts/package-sizes.sh" "$BUNDLE_DIR"
