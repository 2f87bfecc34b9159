#!/bin/sh
# zig for cargo-zigbuild's macOS builds (scripts/release.sh points CARGO_ZIGBUILD_ZIG_PATH here): cargo-zigbuild
# names zig's target without a macOS version (aarch64-macos-none), so zig would compile the C code and mark the
# binary for its own newest macOS (15.0), which older Macs refuse to run. This puts the minimum in,
# $MACOS_MINIMUM (e.g. 11.0), and runs the zig of $ZIG_PYTHON (`python -m ziglang`, pinned by the Makefile).
: "${MACOS_MINIMUM:?MACOS_MINIMUM is not set}" "${ZIG_PYTHON:?ZIG_PYTHON is not set}"
n=$#
while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    n=$((n - 1))
    case $arg in
        *-macos-none) arg=${arg%-macos-none}-macos.$MACOS_MINIMUM-none ;;
    esac
    set -- "$@" "$arg"
done
exec "$ZIG_PYTHON" -m ziglang "$@"
