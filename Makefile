# Confab: the two commands of the README, and the steps they are made of.
#
#   make run    install what is missing, build, open the app
#   make test   install what is missing, run every test suite
#
# Rust builds go to a cache outside the clone (CONFAB_CACHE), so a fresh clone on
# a machine that built Confab before only rebuilds Confab's own crates. Cargo's
# fingerprints make that safe; `make clean-cache` removes it.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CONFAB_CACHE ?= $(HOME)/.cache/confab
export CARGO_TARGET_DIR ?= $(CONFAB_CACHE)/target
export PATH := $(HOME)/.cargo/bin:$(PATH)

# The Tauri CLI would take the first package.json it finds as the frontend; point it at ui/.
export TAURI_FRONTEND_PATH := ui
TAURI := ui/node_modules/.bin/tauri
APP_BIN := $(CARGO_TARGET_DIR)/debug/confab-app
RELEASE_BIN := $(CARGO_TARGET_DIR)/release/confab-app
BUNDLE_DIR := $(CARGO_TARGET_DIR)/release/bundle

.PHONY: help run dev test setup setup-core ui lint rust-test keyring-test bindings ui-test app e2e bench bench-ui fuzz clean-cache check-release bundle figures

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: setup app ## Install what is missing, build, and open Confab
	$(APP_BIN)

dev: setup ## Open Confab with the UI hot-reloading from Vite
	$(TAURI) dev

test: setup lint check-release rust-test ui-test e2e ## Install what is missing and run every test suite
	@echo "make test: all suites passed"

setup: ## Install system packages, npm packages and cargo tools that are missing
	scripts/setup.sh

setup-core:
	scripts/setup.sh --no-e2e

check-release: ## The release workflow (YAML, a runner per job, the bundle targets) and lockfiles whole for every platform
	node scripts/check-release-workflow.mjs
	node scripts/check-lockfiles.mjs
	node --test --test-reporter=spec scripts/tests/

ui/dist/index.html: $(shell find ui/src ui/index.html ui/vite.config.ts -type f 2>/dev/null) ui/package-lock.json
	npm --prefix ui run build

ui: ui/dist/index.html ## Build the web UI

lint: ## cargo fmt --check, clippy -D warnings, and no Tauri inside confab-core
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	@# The core must build without a window: not one tauri crate in its tree.
	@if cargo tree --locked -p confab-core -e normal,build --prefix none | grep -E '^tauri'; then \
	  echo "confab-core depends on Tauri (above): move that code to src-tauri/" >&2; exit 1; \
	else echo "confab-core: no tauri crate in its dependency tree"; fi

rust-test: ## Rust unit, integration, command and bindings-drift tests, then the real keyring's
	cargo test --workspace --locked
	$(MAKE) --no-print-directory keyring-test

# The secrets tests that need a real Secret Service (tests/secrets_keyring.rs,
# #[ignore]d in a plain cargo test). They run inside a private D-Bus session
# with a GNOME Keyring whose data and runtime folders are throwaway, so a
# developer's own login keyring is never touched; the daemon creates a "login"
# collection unlocked by the empty password on its stdin (`printf '\n'`: with no
# input at all it creates nothing) and sets it as the default collection, which
# keyring-rs writes to. The loop waits for the daemon to own its bus name
# (asking the bus, so that no second daemon is D-Bus-activated meanwhile) and
# for that alias, before the tests start.
# The daemon ends with the session's bus. Last, one test checks what a box
# with no session bus at all gets: keyring_unavailable.
KEYRING_TEST := cargo test --locked -p confab-core --test secrets_keyring

keyring-test: ## The secrets tests against a real keyring (a throwaway GNOME Keyring on a private D-Bus)
	$(KEYRING_TEST) --no-run
	keyring_home="$$(mktemp -d)"; trap 'rm -rf "$$keyring_home"' EXIT; \
	mkdir -m 700 "$$keyring_home/data" "$$keyring_home/run"; \
	XDG_DATA_HOME="$$keyring_home/data" XDG_RUNTIME_DIR="$$keyring_home/run" \
	dbus-run-session -- sh -ec ' \
	  printf "\n" | gnome-keyring-daemon --unlock --components=secrets >/dev/null; \
	  tries=0; \
	  until dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q "boolean true" && \
	    dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
	      org.freedesktop.Secret.Service.ReadAlias string:default | grep -q collection/; do \
	    tries=$$((tries + 1)); \
	    if [ $$tries -ge 100 ]; then echo "gnome-keyring did not unlock a default collection" >&2; exit 1; fi; \
	    sleep 0.1; \
	  done; \
	  $(KEYRING_TEST) -- --ignored --test-threads=1 --skip without_a_secret_service'
	env -u DISPLAY -u WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/confab-no-bus \
	  $(KEYRING_TEST) -- --ignored --exact without_a_secret_service_the_keyring_is_unavailable

bindings: ## Regenerate ui/src/lib/bindings.ts from the Rust commands
	CONFAB_UPDATE_BINDINGS=1 cargo test --locked --test bindings

ui-test: ## svelte-check, the TypeScript compiler and Vitest
	npm --prefix ui run check
	npm --prefix ui run typecheck
	npm --prefix ui test

app: ## Build the app with the UI embedded (debug, no installer; builds the UI first)
	$(TAURI) build --debug --no-bundle --ci

e2e: app ## Drive the real app under Xvfb through tauri-driver
	tests/e2e/run.sh $(APP_BIN)

bundle: ## Build the Linux installers (.deb, .rpm) in release mode and print their sizes
	scripts/setup.sh --no-e2e --bundle
	$(TAURI) build --bundles deb,rpm --ci
	scripts/package-sizes.sh $(BUNDLE_DIR)

figures: bundle app ## Cold start, memory (PSS) idle and with a 10,000-message chat, package sizes: release vs debug (not part of make test)
	scripts/setup.sh --bundle
	cargo build --locked -p confab-cli
	scripts/figures.sh $(RELEASE_BIN) $(APP_BIN) $(CARGO_TARGET_DIR)/debug/confab $(BUNDLE_DIR)

bench: ## Print performance figures: cards, import, world books, prompts, conversations, group turns, text prompts, text-completion first token, summaries' cost and prefix stability, retrieval over 100,000 passages, the streaming chat view (not part of make test)
	cargo bench --locked -p confab-core --bench card_parse
	cargo bench --locked -p confab-core --bench library_import
	cargo bench --locked -p confab-core --bench lore_scan
	cargo bench --locked -p confab-core --bench prompt_assemble
	cargo bench --locked -p confab-core --bench conversation
	cargo bench --locked -p confab-core --bench streaming
	cargo bench --locked -p confab-core --bench group_turn
	cargo bench --locked -p confab-core --bench template_render
	cargo bench --locked -p confab-core --bench text_completion
	cargo bench --locked -p confab-core --bench memory_prompt
	cargo bench --locked -p confab-core --bench memory_retrieval
	$(MAKE) --no-print-directory bench-ui

bench-ui: ## A reply at 1,000 words/s into a 10,000-message chat (headless Chromium): longest task, dropped frames, vs whole re-render
	scripts/setup.sh --no-e2e --bench
	node ui/bench/stream-render.mjs

fuzz: ## Fuzz cards, world books, chats, SSE, dictionary, macros (FUZZ_SECONDS each, default 60)
	FUZZ_TARGET_DIR="$${FUZZ_TARGET_DIR:-$(CONFAB_CACHE)/fuzz-target}" scripts/fuzz.sh

clean-cache: ## Remove the build cache outside the clone
	rm -rf $(CONFAB_CACHE)
