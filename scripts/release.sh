#!/usr/bin/env bash
# Builds the release files the Terraform Registry (and a provider network mirror) expects, into $OUT_DIR:
#   terraform-provider-tfe_<version>_<os>_<arch>.zip   one per platform this machine can build
#   terraform-provider-tfe_<version>_manifest.json     a copy of terraform-registry-manifest.json
#   terraform-provider-tfe_<version>_SHA256SUMS        sha256 of each zip and of the manifest
#   terraform-provider-tfe_<version>_SHA256SUMS.sig    detached binary GPG signature of the sums
#
# Environment:
#   OUT_DIR          where the files go (default dist/release)
#   GPG_FINGERPRINT  the signing key (required); GNUPGHOME picks a key ring, GPG_PASSPHRASE unlocks the key
#   RELEASE_BINARY   package this already built binary for the build machine's platform instead of building
#                    (the tests use the debug build; a real release leaves it unset)
#   CARGO            cargo to build with (default cargo)
#
# A platform is built when the Rust standard library for its target is installed (rustup target add ...) and,
# for a target other than the build machine's, a C cross compiler for it is on PATH (aws-lc-sys, under rustls,
# compiles C). Platforms that cannot be built are listed with the reason; none built is an error.
set -euo pipefail

cd "$(dirname "$0")/.."
CARGO=${CARGO:-cargo}
OUT_DIR=${OUT_DIR:-dist/release}
VERSION=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
NAME=terraform-provider-tfe
HOST=$(rustc -vV | sed -n 's/^host: //p')

die() { echo "error: $*" >&2; exit 1; }

[ -n "${GPG_FINGERPRINT:-}" ] || die "GPG_FINGERPRINT is not set: the registry needs SHA256SUMS signed; set it to the \
fingerprint of the signing key (and GNUPGHOME to its key ring, GPG_PASSPHRASE if the key has one)"
command -v gpg >/dev/null || die "gpg is not installed (make release installs it with apt as root: apt-get install gnupg)"
command -v zip >/dev/null || die "zip is not installed (make release installs it with apt as root: apt-get install zip)"
gpg --batch --list-secret-keys "$GPG_FINGERPRINT" >/dev/null 2>&1 \
    || die "no secret key $GPG_FINGERPRINT in the key ring ${GNUPGHOME:-~/.gnupg}"

# os_arch rust-target C-compiler
PLATFORMS=(
    "linux_amd64 x86_64-unknown-linux-gnu x86_64-linux-gnu-gcc"
    "linux_arm64 aarch64-unknown-linux-gnu aarch64-linux-gnu-gcc"
    "darwin_amd64 x86_64-apple-darwin o64-clang"
    "darwin_arm64 aarch64-apple-darwin oa64-clang"
    "windows_amd64 x86_64-pc-windows-gnu x86_64-w64-mingw32-gcc"
    "windows_arm64 aarch64-pc-windows-gnullvm aarch64-w64-mingw32-clang"
)
INSTALLED_TARGETS=$(rustup target list --installed 2>/dev/null || rustc --print target-list)

mkdir -p "$OUT_DIR"
rm -f "$OUT_DIR/${NAME}_${VERSION}_"*
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

built=()
skipped=()
for entry in "${PLATFORMS[@]}"; do
    read -r os_arch target cc <<<"$entry"
    exe=""
    case $os_arch in windows_*) exe=".exe" ;; esac
    if [ "$target" = "$HOST" ]; then
        if [ -n "${RELEASE_BINARY:-}" ]; then
            binary=$RELEASE_BINARY
            [ -x "$binary" ] || die "RELEASE_BINARY=$binary is not an executable file"
        else
            "$CARGO" build --release --locked --bin "$NAME" >&2
            binary=target/release/$NAME
        fi
    elif ! grep -qx "$target" <<<"$INSTALLED_TARGETS"; then
        skipped+=("$os_arch: the Rust target $target is not installed (rustup target add $target)")
        continue
    elif ! command -v "$cc" >/dev/null; then
        skipped+=("$os_arch: no C cross compiler $cc on PATH, which aws-lc-sys needs")
        continue
    elif [ -n "${RELEASE_BINARY:-}" ]; then
        skipped+=("$os_arch: RELEASE_BINARY packages the build machine's platform only")
        continue
    else
        "$CARGO" build --release --locked --bin "$NAME" --target "$target" >&2
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
