#!/usr/bin/env bash
# Builds the release files the Terraform Registry (and a provider network mirror) expects, into $OUT_DIR:
#   terraform-provider-tfe_<version>_<os>_<arch>.zip   one per platform (the binary inside, .exe on Windows)
#   terraform-provider-tfe_<version>_manifest.json     a copy of terraform-registry-manifest.json
#   terraform-provider-tfe_<version>_SHA256SUMS        sha256 of each zip and of the manifest
#   terraform-provider-tfe_<version>_SHA256SUMS.sig    detached binary GPG signature of the sums
#
# Environment:
#   OUT_DIR            where the files go (default dist/release)
#   GPG_FINGERPRINT    the signing key (required); GNUPGHOME picks a key ring, GPG_PASSPHRASE unlocks the key
#   RELEASE_PLATFORMS  the os_arch names to build (default: all below), e.g. "linux_amd64 darwin_arm64"
#   RELEASE_BINARY     package this already built binary for the build machine's platform instead of building
#                      (the tests use the debug build; a real release leaves it unset)
#   CARGO              cargo to build with (default cargo)
#
# Every platform is built the same way, with cargo-zigbuild (zig as the C compiler of aws-lc-sys and as the
# linker), one at a time, release profile: `make release` installs it, zig and the Rust targets first
# (`make cross-tools`). Linux binaries ask for glibc 2.17 or later (zig links against that version's symbols),
# so they run on every distribution Terraform supports. macOS binaries link Apple's Security and
# CoreFoundation frameworks (the keychain's trust store) through stubs that scripts/macos_link_stubs.py writes,
# since Apple's SDK is not available off a Mac. A platform that cannot be built is listed with the reason;
# none built is an error.
set -euo pipefail

cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
OUT_DIR=${OUT_DIR:-dist/release}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
NAME=terraform-provider-tfe
HOST=$(rustc -vV | sed -n 's/^host: //p')

die() { echo "error: $*" >&2; exit 1; }

# The oldest macOS each darwin binary runs on: Rust's default deployment target for it.
macos_minimum() {
    case $1 in
        x86_64-apple-darwin) echo 10.12 ;;
        aarch64-apple-darwin) echo 11.0 ;;
        *) die "no macOS minimum for $1" ;;
    esac
}

[ -n "${GPG_FINGERPRINT:-}" ] || die "GPG_FINGERPRINT is not set: the registry needs SHA256SUMS signed; set it to the \
fingerprint of the signing key (and GNUPGHOME to its key ring, GPG_PASSPHRASE if the key has one)"
command -v gpg >/dev/null || die "gpg is not installed (make release installs it with apt as root: apt-get install gnupg)"
command -v zip >/dev/null || die "zip is not installed (make release installs it with apt as root: apt-get install zip)"
gpg --batch --list-secret-keys "$GPG_FINGERPRINT" >/dev/null 2>&1 \
    || die "no secret key $GPG_FINGERPRINT in the key ring ${GNUPGHOME:-~/.gnupg}"

# os_arch rust-target zig-target (the Rust target, plus the glibc version for Linux). The registry's five
# first, so that a long release has them before the others.
PLATFORMS=(
    "linux_amd64 x86_64-unknown-linux-gnu x86_64-unknown-linux-gnu.2.17"
    "linux_arm64 aarch64-unknown-linux-gnu aarch64-unknown-linux-gnu.2.17"
    "darwin_amd64 x86_64-apple-darwin x86_64-apple-darwin"
    "darwin_arm64 aarch64-apple-darwin aarch64-apple-darwin"
    "windows_amd64 x86_64-pc-windows-gnu x86_64-pc-windows-gnu"
    "linux_386 i686-unknown-linux-gnu i686-unknown-linux-gnu.2.17"
    "linux_arm armv7-unknown-linux-gnueabihf armv7-unknown-linux-gnueabihf.2.17"
    "windows_arm64 aarch64-pc-windows-gnullvm aarch64-pc-windows-gnullvm"
    "freebsd_amd64 x86_64-unknown-freebsd x86_64-unknown-freebsd"
)
REQUIRED="linux_amd64
linux_arm64
darwin_amd64
darwin_arm64
windows_amd64"
ALL_PLATFORMS=$(for entry in "${PLATFORMS[@]}"; do echo "${entry%% *}"; done)
WANTED=${RELEASE_PLATFORMS:-$ALL_PLATFORMS}
for name in $WANTED; do
    grep -qx "$name" <<<"$ALL_PLATFORMS" || die "RELEASE_PLATFORMS names $name, which is not one of: $(echo $ALL_PLATFORMS)"
done
INSTALLED_TARGETS=$(rustup target list --installed 2>/dev/null || rustc --print target-list)
# Stable paths, so that a second release reuses what the first compiled.
MACOS_STUBS=$PWD/target/macos-link-stubs

mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR/${NAME}_${VERSION}_"*
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

built=()
skipped=()
for entry in "${PLATFORMS[@]}"; do
    read -r os_arch target zig_target <<<"$entry"
    grep -qx "$os_arch" <<<"$WANTED" || continue
    exe=""
    case $os_arch in windows_*) exe=".exe" ;; esac
    if [ -n "${RELEASE_BINARY:-}" ]; then
        if [ "$target" != "$HOST" ]; then
            skipped+=("$os_arch: RELEASE_BINARY packages the build machine's platform only")
            continue
        fi
        binary=$RELEASE_BINARY
        [ -x "$binary" ] || die "RELEASE_BINARY=$binary is not an executable file"
    elif ! grep -qx "$target" <<<"$INSTALLED_TARGETS"; then
        skipped+=("$os_arch: the Rust target $target is not installed (make cross-tools, or rustup target add $target)")
        continue
    elif ! command -v cargo-zigbuild >/dev/null; then
        skipped+=("$os_arch: cargo-zigbuild is not on PATH (make release installs it into .tools/cross with make cross-tools)")
        continue
    else
        build_env=("CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_RUSTFLAGS=")
        case $os_arch in
            darwin_*)
                python3 scripts/macos_link_stubs.py "$MACOS_STUBS" "$target" >&2
                # The oldest macOS it runs on: Rust's own minimum for the target (what its standard library
                # assumes), for rustc, the C compiler and the linker alike. cargo-zigbuild names zig's target
                # without a version, so zig is reached through scripts/zig-macos.sh, which adds it (with no
                # python for cargo-zigbuild to find, it takes the zig at CARGO_ZIGBUILD_ZIG_PATH).
                min=$(macos_minimum "$target")
                build_env=(
                    "CARGO_TARGET_$(tr 'a-z-' 'A-Z_' <<<"$target")_RUSTFLAGS=-C link-arg=-F$MACOS_STUBS"
                    "MACOSX_DEPLOYMENT_TARGET=$min" "MACOS_MINIMUM=$min"
                    "ZIG_PYTHON=$(dirname "$(command -v cargo-zigbuild)")/python"
                    "CARGO_ZIGBUILD_ZIG_PATH=$PWD/scripts/zig-macos.sh"
                    "CARGO_ZIGBUILD_PYTHON_PATH=$STAGE/no-python"
                )
                ;;
        esac
        echo "== building $os_arch ($zig_target)" >&2
        build_log=$STAGE/build-$os_arch.log
        if ! env "${build_env[@]}" cargo-zigbuild build --release --locked --bin "$NAME" \
            --target "$zig_target" 2>&1 | tee "$build_log" >&2; then
            # The registry's five must build; another platform that fails is named, with the error.
            grep -qx "$os_arch" <<<"$REQUIRED" && die "$os_arch did not build (output above)"
            skipped+=("$os_arch: the build failed: $(grep -m1 '^error' "$build_log" || tail -n1 "$build_log")")
            continue
        fi
        binary=target/$target/release/$NAME$exe
    fi
    rm -rf "$STAGE/$os_arch" && mkdir -p "$STAGE/$os_arch"
    install -m 0755 "$binary" "$STAGE/$os_arch/${NAME}_v${VERSION}${exe}"
    zip_file=$(realpath "$OUT_DIR")/${NAME}_${VERSION}_${os_arch}.zip
    (cd "$STAGE/$os_arch" && zip -q -X "$zip_file" "${NAME}_v${VERSION}${exe}")
    built+=("$os_arch")
done
[ ${#built[@]} -gt 0 ] || die "no platform could be built here: ${skipped[*]}"

cp terraform-registry-manifest.json "$OUT_DIR/${NAME}_${VERSION}_manifest.json"
(
    cd "$OUT_DIR"
    sha256sum "${NAME}_${VERSION}_"*.zip "${NAME}_${VERSION}_manifest.json" >"${NAME}_${VERSION}_SHA256SUMS"
    pass=()
    [ -n "${GPG_PASSPHRASE:-}" ] && pass=(--pinentry-mode loopback --passphrase-fd 0)
    gpg --batch --yes --local-user "$GPG_FINGERPRINT" "${pass[@]}" \
        --output "${NAME}_${VERSION}_SHA256SUMS.sig" --detach-sign "${NAME}_${VERSION}_SHA256SUMS" \
        <<<"${GPG_PASSPHRASE:-}"
)

echo "release $VERSION in $OUT_DIR: built ${built[*]}"
for reason in "${skipped[@]}"; do echo "  not built: $reason"; done
