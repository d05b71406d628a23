#!/usr/bin/env bash
# Runs the end-to-end suite against a built Confab binary:
# Xvfb, then tauri-driver (which drives WebKitWebDriver, which starts the app), then node --test.
#
#   tests/e2e/run.sh PATH/TO/confab-app [NAME.test.mjs...]
#
# With test files named, only those run, in the order given (later files use what
# earlier ones imported: library.test.mjs first).
#
# Six drivers run side by side, each with its own data folder (a first start, a
# library to import into, one whose database is damaged, one launched twice on a
# private session bus, a new user's first run, and one for the hostile card of
# security.test.mjs, whose keys may also be kept encrypted), because the app reads
# CONFAB_DATA_DIR from the environment the driver hands down. Every app but the
# first-run one starts with CONFAB_SKIP_FIRST_RUN=1, which marks the first-run
# walk-through as done (without recording it), so those tests meet the window
# itself; onboarding.test.mjs walks through it. A fake model server on 127.0.0.1 answers chats
# (fake-provider.mjs). Screenshots land in target/e2e-screenshots/.
set -euo pipefail

APP="${1:?usage: tests/e2e/run.sh PATH/TO/confab-app [NAME.test.mjs...]}"
shift
[[ -x "$APP" ]] || { echo "no app binary at $APP: run 'make app' first" >&2; exit 1; }
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SHOTS="$ROOT/target/e2e-screenshots"
PORT="${CONFAB_E2E_PORT:-4444}"
BROKEN_PORT=$((PORT + 10))
LIBRARY_PORT=$((PORT + 20))
SINGLE_PORT=$((PORT + 30))
FIRSTRUN_PORT=$((PORT + 40))
SECURITY_PORT=$((PORT + 50))
CPU_PORT=$((PORT + 60))
export PATH="$HOME/.cargo/bin:$PATH"

for tool in Xvfb tauri-driver WebKitWebDriver node dbus-daemon xdotool; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: run 'make setup'" >&2; exit 1; }
done

WORK="$(mktemp -d)"
# The suite's own output, kept outside WORK (zzkeytrace.test.mjs scans all of WORK),
# so that its failures can be repeated after the drivers' logs.
OUTPUT="$(mktemp)"
PIDS=()
cleanup() {
  # Kill what we started by PID: a killed wrapper can leave Xvfb or the app behind.
  for pid in "${PIDS[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  # An app that is still closing (a grandchild of tauri-driver) can write its
  # shader cache while the folder goes: try again once it has.
  rm -rf "$WORK" 2>/dev/null || { sleep 1; rm -rf "$WORK"; }
  rm -f "$OUTPUT"
}
trap cleanup EXIT INT TERM

mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png

# Xvfb picks a free display and writes its number to fd 3.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$WORK/display" 2>"$WORK/xvfb.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/display" ]] && break; sleep 0.1; done
[[ -s "$WORK/display" ]] || { cat "$WORK/xvfb.log" >&2; echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$(head -1 "$WORK/display")"

# A predictable, English environment for the app; no accessibility bus under Xvfb.
export LANG=C.UTF-8 LC_ALL=C.UTF-8 LANGUAGE=en NO_AT_BRIDGE=1
# No session bus, so no Secret Service: the suite walks the keyring_unavailable
# fallback (the real keyring is tested by `make keyring-test`). An unreachable
# address also stops libdbus from autolaunching a bus on the X display.
export DBUS_SESSION_BUS_ADDRESS="unix:path=$WORK/no-session-bus"
# The first-run walk-through is tested by onboarding.test.mjs alone (its driver sets 0).
export CONFAB_SKIP_FIRST_RUN=1
# On Linux Confab has WebKit draw with the CPU (src-tauri/startup.rs), and WebKitGTK
# 2.50 then never answers WebDriver's screenshots (viewport or element: they hang).
# The suite keeps WebKit's GPU path so that it can screenshot every screen, and
# cpu.test.mjs drives one app as it ships; `make figures` measures it.
export CONFAB_WEBKIT_GPU=1

start_driver() { # port data_dir log [session bus address]
  # Each app gets its own data folder and its own XDG folders, so WebKit's
  # localStorage and caches never leak between runs or between the two apps.
  local xdg="$2-xdg"
  mkdir -p "$xdg/data" "$xdg/config" "$xdg/cache"
  CONFAB_DATA_DIR="$2" XDG_DATA_HOME="$xdg/data" XDG_CONFIG_HOME="$xdg/config" \
    XDG_CACHE_HOME="$xdg/cache" DBUS_SESSION_BUS_ADDRESS="${4:-$DBUS_SESSION_BUS_ADDRESS}" tauri-driver --port "$1" --native-port $(($1 + 1)) >"$3" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$1/status" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  cat "$3" >&2
  echo "tauri-driver did not listen on port $1" >&2
  exit 1
}

mkdir -p "$WORK/healthy" "$WORK/broken" "$WORK/library" "$WORK/inbox" "$WORK/firstrun"
# Not a database at all: the app must say so and leave the file alone.
printf 'these bytes are not a SQLite database\n%.0s' $(seq 50) >"$WORK/broken/confab.db"
cp "$WORK/broken/confab.db" "$WORK/broken-original.db"

# Cards to import through the UI: real fixtures, plus one that is not a card at all.
FIXTURES="$ROOT/crates/core/tests/fixtures/cards"
printf 'not a png at all' >"$WORK/inbox/broken card.png"

# A fake OpenAI-compatible model server on loopback: nothing leaves the machine.
node "$HERE/fake-provider.mjs" "$WORK/provider-url" 2>"$WORK/provider.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/provider-url" ]] && break; sleep 0.1; done
[[ -s "$WORK/provider-url" ]] || { cat "$WORK/provider.log" >&2; echo "the fake provider did not start" >&2; exit 1; }

start_driver "$PORT" "$WORK/healthy" "$WORK/driver.log"
start_driver "$BROKEN_PORT" "$WORK/broken" "$WORK/driver-broken.log"
start_driver "$LIBRARY_PORT" "$WORK/library" "$WORK/driver-library.log"
CONFAB_SKIP_FIRST_RUN=0 start_driver "$FIRSTRUN_PORT" "$WORK/firstrun" "$WORK/driver-firstrun.log"
# One app drawn as it ships (by the CPU): cpu.test.mjs drives it without screenshots.
mkdir -p "$WORK/cpu"
CONFAB_WEBKIT_GPU=0 start_driver "$CPU_PORT" "$WORK/cpu" "$WORK/driver-cpu.log"
# The hostile card gets a library of its own, so no other test meets it. Its app
# has a passphrase, so zzkeytrace.test.mjs can keep a key encrypted in the database
# and then look for it in every file.
mkdir -p "$WORK/security"
SECURITY_PASSPHRASE="e2e-passphrase-$RANDOM$RANDOM$RANDOM"
CONFAB_ENCRYPTION_KEY="$SECURITY_PASSPHRASE" start_driver "$SECURITY_PORT" "$WORK/security" "$WORK/driver-security.log"

# One Confab per library: the single-instance guard is a D-Bus name on Linux, so
# the app of single.test.mjs gets a private session bus. It allows activating
# nothing (no servicedir), so no Secret Service answers there either.
mkdir -p "$WORK/single" "$WORK/bus"
cat >"$WORK/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=$WORK/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$WORK/bus.conf" --nofork --print-address=3 3>"$WORK/bus-address" 2>"$WORK/bus.log" &
PIDS+=($!)
for _ in $(seq 100); do [[ -s "$WORK/bus-address" ]] && break; sleep 0.1; done
[[ -s "$WORK/bus-address" ]] || { cat "$WORK/bus.log" >&2; echo "dbus-daemon did not start" >&2; exit 1; }
SINGLE_BUS="$(head -1 "$WORK/bus-address")"
start_driver "$SINGLE_PORT" "$WORK/single" "$WORK/driver-single.log" "$SINGLE_BUS"

TESTS=("$@")

status=0
(
  cd "$HERE"
  [[ ${#TESTS[@]} -gt 0 ]] || TESTS=(./*.test.mjs)
  CONFAB_APP="$APP" \
    CONFAB_WEBDRIVER="http://127.0.0.1:$PORT" \
    CONFAB_WEBDRIVER_BROKEN="http://127.0.0.1:$BROKEN_PORT" \
    CONFAB_WEBDRIVER_LIBRARY="http://127.0.0.1:$LIBRARY_PORT" \
    CONFAB_WEBDRIVER_SINGLE="http://127.0.0.1:$SINGLE_PORT" \
    CONFAB_WEBDRIVER_FIRSTRUN="http://127.0.0.1:$FIRSTRUN_PORT" \
    CONFAB_WEBDRIVER_SECURITY="http://127.0.0.1:$SECURITY_PORT" \
    CONFAB_WEBDRIVER_CPU="http://127.0.0.1:$CPU_PORT" \
    CONFAB_E2E_WORK="$WORK" \
    CONFAB_SECURITY_DATA="$WORK/security" \
    CONFAB_SECURITY_PASSPHRASE="$SECURITY_PASSPHRASE" \
    CONFAB_SINGLE_DATA="$WORK/single" \
    CONFAB_SINGLE_BUS="$SINGLE_BUS" \
    CONFAB_FIXTURES="$FIXTURES" \
    CONFAB_INBOX="$WORK/inbox" \
    CONFAB_LIBRARY_DATA="$WORK/library" \
    CONFAB_BROKEN_DB="$WORK/broken/confab.db" \
    CONFAB_BROKEN_ORIGINAL="$WORK/broken-original.db" \
    CONFAB_SHOTS="$SHOTS" \
    CONFAB_FAKE_PROVIDER="$(head -1 "$WORK/provider-url")" \
    timeout 900 node --test --test-concurrency=1 --test-reporter=spec "${TESTS[@]}" 2>&1 | tee "$OUTPUT"
) || status=$?

if [[ $status -ne 0 ]]; then
  echo "--- tauri-driver log (healthy) ---" >&2
  tail -50 "$WORK/driver.log" >&2 || true
  echo "--- tauri-driver log (broken) ---" >&2
  tail -50 "$WORK/driver-broken.log" >&2 || true
  echo "--- tauri-driver log (library) ---" >&2
  tail -50 "$WORK/driver-library.log" >&2 || true
  echo "--- tauri-driver log (single) ---" >&2
  tail -50 "$WORK/driver-single.log" >&2 || true
  echo "--- tauri-driver log (first run) ---" >&2
  tail -50 "$WORK/driver-firstrun.log" >&2 || true
  echo "--- tauri-driver log (security) ---" >&2
  tail -50 "$WORK/driver-security.log" >&2 || true
  echo "--- tauri-driver log (cpu) ---" >&2
  tail -50 "$WORK/driver-cpu.log" >&2 || true
  # Last, where a short tail of the output still shows it: what failed, and why.
  echo "--- the suite's failures again ---" >&2
  sed -n '/^✖ failing tests:/,$p' "$OUTPUT" | head -150 >&2 || true
fi
echo "screenshots: $SHOTS"
exit $status
