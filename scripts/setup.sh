#!/usr/bin/env bash
# Installs whatever Confab's build and tests need and is missing; safe to run again.
#
#   scripts/setup.sh           everything `make run` and `make test` need
#   scripts/setup.sh --no-e2e  skip the end-to-end tools (tauri-driver, Xvfb, WebKitWebDriver)
#   scripts/setup.sh --bench   also Chromium, for `make bench-ui`
#   scripts/setup.sh --bundle  also what `make bundle` uses to inspect the packages it built
#                              (flags combine)
#
# Works as root or through sudo on Debian/Ubuntu. On other systems it says what to install.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WITH_E2E=1
WITH_BENCH=0
WITH_BUNDLE=0
for arg in "$@"; do
  case "$arg" in
    --no-e2e) WITH_E2E=0 ;;
    --bench) WITH_BENCH=1 ;;
    --bundle) WITH_BUNDLE=1 ;;
    *) printf 'unknown option: %s\n' "$arg" >&2; exit 2 ;;
  esac
done

# Tauri 2 on Linux (https://v2.tauri.app/start/prerequisites/#linux), plus what tests use.
# libdbus-1-dev: the OS keyring on Linux (keyring's Secret Service backend links libdbus).
APT_BUILD=(build-essential pkg-config curl wget file libssl-dev libxdo-dev
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev)
# `make keyring-test` (part of `make test`): a private session bus (dbus-run-session,
# dbus-send) and a throwaway GNOME Keyring as the Secret Service; tests/single_instance.rs
# runs a private dbus-daemon too.
APT_KEYRING_TEST=(dbus gnome-keyring)
# CJK and emoji fonts so screenshots of Chinese and Japanese names, and of imported chats
# full of emoji, show text, not boxes. xdotool types into the native GTK file chooser,
# which WebDriver cannot reach.
APT_E2E=(xvfb xauth webkit2gtk-driver dbus-x11 fonts-dejavu-core fonts-noto-core fonts-noto-cjk
  fonts-noto-color-emoji xdotool)
# `make bench-ui`: Debian's Chromium, driven headless by playwright-core (a dev dependency of ui/).
APT_BENCH=(chromium)
# `make bundle`: Tauri's bundler writes .deb and .rpm itself (no system tools needed);
# dpkg-deb (always on Debian) and rpm read them back to print what they hold and need.
APT_BUNDLE=(rpm)
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19
TAURI_DRIVER_VERSION="2.1.0"

say() { printf '\033[1;35m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (run as root or install sudo)"
  fi
}

install_apt_packages() {
  local wanted=("${APT_BUILD[@]}" "${APT_KEYRING_TEST[@]}")
  [[ $WITH_E2E -eq 1 ]] && wanted+=("${APT_E2E[@]}")
  [[ $WITH_BENCH -eq 1 ]] && wanted+=("${APT_BENCH[@]}")
  [[ $WITH_BUNDLE -eq 1 ]] && wanted+=("${APT_BUNDLE[@]}")
  if ! command -v dpkg-query >/dev/null 2>&1; then
    say "not a Debian/Ubuntu system: install the Tauri prerequisites for your OS"
    say "(https://v2.tauri.app/start/prerequisites/), then run this again"
    return
  fi
  local missing=()
  for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "system packages: all present"
    return
  fi
  say "installing system packages: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

check_rust() {
  if ! command -v cargo >/dev/null 2>&1 && [[ -x "$HOME/.cargo/bin/cargo" ]]; then
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    say "installing the Rust toolchain with rustup"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal \
      --component rustfmt,clippy || die "could not install Rust; see https://rustup.rs"
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  # rustfmt and clippy come with rustup's default profile; add them where they are missing.
  if command -v rustup >/dev/null 2>&1; then
    cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
    cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
  fi
  say "rust: $(rustc --version)"
}

check_node() {
  command -v node >/dev/null 2>&1 ||
    die "Node.js ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}+ is needed (https://nodejs.org or NodeSource's Debian packages)"
  local version major minor
  version="$(node --version | sed 's/^v//')"
  major="${version%%.*}"
  minor="$(echo "$version" | cut -d. -f2)"
  if ((major < NODE_MIN_MAJOR || (major == NODE_MIN_MAJOR && minor < NODE_MIN_MINOR))); then
    die "Node.js $version is too old: ${NODE_MIN_MAJOR}.${NODE_MIN_MINOR}+ is needed"
  fi
  say "node: v$version, npm $(npm --version 2>/dev/null)"
}

# `npm ci` wipes node_modules, so run it only when the lockfile changed since the last one.
npm_ci() {
  local dir="$1" stamp="$1/node_modules/.confab-lock.sha256" sum
  sum="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" ]]; then
    say "npm packages in ${dir#"$ROOT"/}: up to date"
    return
  fi
  say "npm ci in ${dir#"$ROOT"/}"
  # The lockfiles hold every platform's optional packages (make check-release
  # proves it), so npm ci is the one way in, here and on macOS and Windows.
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $dir"
  echo "$sum" >"$stamp"
}

install_tauri_driver() {
  # tauri-driver has no --version; cargo's own list of installed tools says which one we have.
  if command -v tauri-driver >/dev/null 2>&1 &&
    cargo install --list 2>/dev/null | grep -q "^tauri-driver v$TAURI_DRIVER_VERSION:"; then
    say "tauri-driver: $TAURI_DRIVER_VERSION present"
    return
  fi
  say "installing tauri-driver $TAURI_DRIVER_VERSION"
  cargo install tauri-driver --locked --version "$TAURI_DRIVER_VERSION"
}

install_apt_packages
check_rust
check_node
npm_ci "$ROOT/ui"
# The release checks of `make test` (scripts/check-*.mjs) parse YAML with the `yaml` package.
npm_ci "$ROOT/scripts"
if [[ $WITH_E2E -eq 1 ]]; then
  npm_ci "$ROOT/tests/e2e"
  install_tauri_driver
fi
say "setup complete"
