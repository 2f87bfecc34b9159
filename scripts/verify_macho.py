#!/usr/bin/env python3
"""Checks a macOS executable without a Mac: Mach-O of the expected architecture, the minimum macOS version it
declares, the libraries it loads, and its code signature. Apple Silicon runs nothing unsigned; an ad-hoc
signature (no identity, what a linker writes) is enough for a binary that Terraform downloads, since
Terraform's own downloads carry no quarantine flag. The signature is checked as the kernel checks it: the
CodeDirectory's SHA-256 of every page of the file up to the signature must match the page.

usage: verify_macho.py FILE ARCH MIN_VERSION [--signed]     ARCH: arm64 or x86_64; MIN_VERSION e.g. 11.0
Prints a JSON summary; exits 1 naming the first thing that is wrong.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys

MH_MAGIC_64 = 0xFEEDFACF
MH_EXECUTE = 2
CPU_TYPES = {"arm64": 0x0100000C, "x86_64": 0x01000007}
LC_LOAD_DYLIB = 0x0C
LC_CODE_SIGNATURE = 0x1D
LC_VERSION_MIN_MACOSX = 0x24
LC_BUILD_VERSION = 0x32
PLATFORM_MACOS = 1
CSMAGIC_EMBEDDED_SIGNATURE = 0xFADE0CC0
CSMAGIC_CODEDIRECTORY = 0xFADE0C02
CS_ADHOC = 0x2
CS_HASHTYPE_SHA256 = 2


def fail(message: str) -> None:
    sys.exit(f"error: {message}")


def version(packed: int) -> str:
    return f"{packed >> 16}.{(packed >> 8) & 0xFF}"


def code_signature(data: bytes, offset: int, size: int) -> dict:
    blob = data[offset : offset + size]
    magic, _length, count = struct.unpack_from(">III", blob, 0)
    if magic != CSMAGIC_EMBEDDED_SIGNATURE:
        fail(f"the code signature is not an embedded signature (magic {magic:#x})")
    for i in range(count):
        _slot, blob_offset = struct.unpack_from(">II", blob, 12 + 8 * i)
        if struct.unpack_from(">I", blob, blob_offset)[0] == CSMAGIC_CODEDIRECTORY:
            return code_directory(data, blob, blob_offset, offset)
    fail("the code signature holds no CodeDirectory")


def code_directory(data: bytes, blob: bytes, at: int, signature_offset: int) -> dict:
    (_magic, _length, cd_version, flags, hash_offset, ident_offset, _special, code_slots, code_limit, hash_size,
     hash_type, _platform, page_log2) = struct.unpack_from(">IIIIIIIIIBBBB", blob, at)
    identifier = blob[at + ident_offset : blob.index(b"\0", at + ident_offset)].decode()
    if hash_type != CS_HASHTYPE_SHA256 or hash_size != 32:
        fail(f"the CodeDirectory hashes with type {hash_type} (size {hash_size}), not SHA-256")
    if code_limit != signature_offset:
        fail(f"the signature covers {code_limit} bytes, but the signature starts at {signature_offset}")
    page = 1 << page_log2
    if code_slots != (code_limit + page - 1) // page:
        fail(f"{code_slots} page hashes for {code_limit} bytes in pages of {page}")
    for i in range(code_slots):
        expected = blob[at + hash_offset + 32 * i : at + hash_offset + 32 * (i + 1)]
        actual = hashlib.sha256(data[i * page : min((i + 1) * page, code_limit)]).digest()
        if actual != expected:
            fail(f"page {i} of the file does not match its hash in the code signature")
    return {"identifier": identifier, "adhoc": bool(flags & CS_ADHOC), "pages": code_slots,
            "page_size": page, "code_directory_version": hex(cd_version)}


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 3 or args[1] not in CPU_TYPES:
        fail(__doc__.strip().splitlines()[-2])
    path, arch, min_version = args
    data = open(path, "rb").read()
    magic, cputype, _sub, filetype, ncmds, _size, _flags, _reserved = struct.unpack_from("<IIIIIIII", data, 0)
    if magic != MH_MAGIC_64:
        fail(f"{path} is not a 64-bit Mach-O file (magic {magic:#x})")
    if cputype != CPU_TYPES[arch]:
        fail(f"{path} is for CPU type {cputype:#x}, not {arch}")
    if filetype != MH_EXECUTE:
        fail(f"{path} is not an executable (file type {filetype})")
    summary = {"file": path, "arch": arch, "dylibs": [], "min_macos": None, "signature": None}
    at = 32
    for _ in range(ncmds):
        cmd, cmdsize = struct.unpack_from("<II", data, at)
        if cmd == LC_BUILD_VERSION:
            platform, minos, _sdk = struct.unpack_from("<III", data, at + 8)
            if platform == PLATFORM_MACOS:
                summary["min_macos"] = version(minos)
        elif cmd == LC_VERSION_MIN_MACOSX:
            summary["min_macos"] = version(struct.unpack_from("<I", data, at + 8)[0])
        elif cmd == LC_LOAD_DYLIB:
            name_offset = struct.unpack_from("<I", data, at + 8)[0]
            name = data[at + name_offset : at + cmdsize].split(b"\0")[0].decode()
            summary["dylibs"].append(name)
        elif cmd == LC_CODE_SIGNATURE:
            offset, size = struct.unpack_from("<II", data, at + 8)
            summary["signature"] = code_signature(data, offset, size)
        at += cmdsize
    if summary["min_macos"] != min_version:
        fail(f"{path} declares minimum macOS {summary['min_macos']}, expected {min_version}")
    if "--signed" in sys.argv:
        signature = summary["signature"]
        if signature is None:
            fail(f"{path} has no code signature: Apple Silicon refuses to run it")
        if not signature["adhoc"]:
            fail(f"{path} is signed, but not ad hoc: {signature}")
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
