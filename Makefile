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

.PHONY: help run dev test setup setup-core ui lint rust-test bindings ui-test app e2e bench fuzz clean-cache

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

run: setup app ## Install what is missing, build, and open Confab
	$(APP_BIN)

dev: setup ## Open Confab with the UI hot-reloading from Vite
	$(TAURI) dev

test: setup lint rust-test ui-test e2e ## Install what is missing and run every test suite
	@echo "make test: all suites passed"

setup: ## Install system packages, npm packages and cargo tools that are missing
	scripts/setup.sh

setup-core:
	scripts/setup.sh --no-e2e

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

rust-test: ## Rust unit, integration, command and bindings-drift tests
	cargo test --workspace --locked

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

bench: ## Print performance figures: cards, import, world books, prompts, conversations (not part of make test)
	cargo bench --locked -p confab-core --bench card_parse
	cargo bench --locked -p confab-core --bench library_import
	cargo bench --locked -p confab-core --bench lore_scan
	cargo bench --locked -p confab-core --bench prompt_assemble
	cargo bench --locked -p confab-core --bench conversation
	cargo bench --locked -p confab-core --bench streaming

fuzz: ## Fuzz the PNG chunk reader and card JSON normalisation, a minute each
	scripts/fuzz.sh

clean-cache: ## Remove the build cache outside the clone
	rm -rf $(CONFAB_CACHE)
