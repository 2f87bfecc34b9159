#!/usr/bin/env python3
"""Writes the link stubs a macOS cross build needs in place of Apple's SDK, into OUT_DIR.

The provider reaches the macOS trust store (the keychain) through Apple's Security framework, by way of
rustls-native-certs and reqwest's rustls-platform-verifier, whose -sys crates link `Security` and
`CoreFoundation` (cargo-zigbuild brings its own stub for the `iconv` that Rust's libc names). A linker needs to know, for each imported symbol, which
library exports it; the SDK says so with text stubs (.tbd). Without the SDK (not available off a Mac),
this writes such stubs itself, listing exactly what the two -sys crates declare: every function and
static of security-framework-sys goes to Security, of core-foundation-sys to CoreFoundation, since each
crate links only its own framework. At run time macOS loads the real frameworks from the install names
below, which are the same on every macOS release.

usage: macos_link_stubs.py OUT_DIR TARGET     (then link with -F OUT_DIR)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

FRAMEWORKS = {
    # -sys crate: (framework, install name)
    "security-framework-sys": ("Security", "/System/Library/Frameworks/Security.framework/Versions/A/Security"),
    "core-foundation-sys": (
        "CoreFoundation",
        "/System/Library/Frameworks/CoreFoundation.framework/Versions/A/CoreFoundation",
    ),
}
TARGETS = "[ x86_64-macos, arm64-macos, arm64e-macos ]"
DECLARATION = re.compile(r"\bpub\s+(?:fn|static(?:\s+mut)?)\s+([A-Za-z_]\w*)")
LINK_NAME = re.compile(r'link_name\s*=\s*"([^"]+)"')


def sys_crate_sources(target: str) -> dict[str, Path]:
    cargo = os.environ.get("CARGO", "cargo")
    out = subprocess.run(
        [cargo, "metadata", "--locked", "--format-version", "1", "--filter-platform", target],
        check=True, capture_output=True, text=True,
    ).stdout
    found = {}
    for package in json.loads(out)["packages"]:
        if package["name"] in FRAMEWORKS:
            found[package["name"]] = Path(package["manifest_path"]).parent / "src"
    missing = sorted(set(FRAMEWORKS) - set(found))
    if missing:
        sys.exit(f"error: {', '.join(missing)} not in the dependency graph for {target}: the stubs would be incomplete")
    return found


def declared_symbols(src: Path) -> list[str]:
    names = set()
    for file in sorted(src.rglob("*.rs")):
        text = file.read_text()
        names.update(DECLARATION.findall(text))
        names.update(LINK_NAME.findall(text))
    # Mach-O C symbols carry a leading underscore.
    return sorted("_" + name for name in names)


def tbd(install_name: str, symbols: list[str]) -> str:
    listed = ",\n".join(f"                       '{s}'" for s in symbols)
    exports = f"exports:\n  - targets:         {TARGETS}\n    symbols:         [\n{listed} ]\n"
    return (
        "--- !tapi-tbd\n"
        "tbd-version:     4\n"
        f"targets:         {TARGETS}\n"
        f"install-name:    '{install_name}'\n"
        "current-version: 1\n"
        "compatibility-version: 1\n"
        f"{exports}"
        "...\n"
    )


def main() -> int:
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    out, target = Path(sys.argv[1]), sys.argv[2]
    for crate, src in sys_crate_sources(target).items():
        framework, install_name = FRAMEWORKS[crate]
        symbols = declared_symbols(src)
        if not symbols:
            sys.exit(f"error: found no declarations in {src}")
        directory = out / f"{framework}.framework"
        directory.mkdir(parents=True, exist_ok=True)
        (directory / f"{framework}.tbd").write_text(tbd(install_name, symbols))
        print(f"{framework}: {len(symbols)} symbols from {crate}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
