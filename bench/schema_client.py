"""Plays Terraform's side of a provider's start-up: launches it with go-plugin's environment, reads the
handshake line, connects over the network it names (a unix socket, or TCP on 127.0.0.1) with the plugin's
mutual TLS, calls GetProviderSchema (protocol 6) or GetSchema (protocol 5), then the controller's Shutdown,
and waits for the process to exit. Run with the venv's python (grpcio); empty request messages and raw
response bytes, so no generated code is needed.

`make bench` (bench/bench.py) times it; the release check runs it against binaries of other platforms,
started through an emulator (`--launcher "qemu-aarch64 -L /usr/aarch64-linux-gnu"`, `--launcher wine`).

usage: python schema_client.py PROVIDER LAUNCHES CLIENT_CERT_PEM CLIENT_KEY_PEM [--launcher CMD]
       [--contains TEXT] [--timeout SECONDS]
The plugin environment (magic cookie, PLUGIN_CLIENT_CERT, ports) comes from the caller's environment.
Prints one JSON object: times_ms, vm_hwm_kib (Linux, else null), schema_bytes, handshakes, exit_codes.
"""

import argparse
import base64
import json
import os
import shlex
import subprocess
import sys
import time

import grpc


def peak_rss_kib(pid: int):
    try:
        with open(f"/proc/{pid}/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return None


def target_for(network: str, address: str) -> str:
    if network == "unix":
        return "unix:" + address
    if network == "tcp":
        return "ipv4:" + address
    sys.exit(f"error: the handshake names network {network!r}, neither unix nor tcp")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("provider")
    parser.add_argument("launches", type=int)
    parser.add_argument("cert")
    parser.add_argument("key")
    parser.add_argument("--launcher", default="", help="command to start the provider through")
    parser.add_argument("--contains", default="", help="text the schema must contain")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    command = shlex.split(args.launcher) + [args.provider]
    times, rss, sizes, handshakes, exit_codes = [], [], [], [], []
    for _ in range(args.launches):
        started = time.perf_counter()
        proc = subprocess.Popen(command, env=dict(os.environ), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        line = proc.stdout.readline().strip()
        fields = line.split("|")
        if len(fields) < 6:
            proc.kill()
            sys.exit(f"error: not a handshake line from {' '.join(command)}: {line!r}")
        _core, proto, network, address, _kind, server_cert = fields[:6]
        handshakes.append(line)
        pad = "=" * (-len(server_cert) % 4)
        der = base64.b64decode(server_cert + pad, altchars=b"+/") if server_cert else b""
        pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(der) + b"-----END CERTIFICATE-----\n"
        creds = grpc.ssl_channel_credentials(root_certificates=pem, private_key=args.key.encode(),
                                             certificate_chain=args.cert.encode())
        channel = grpc.secure_channel(target_for(network, address), creds,
                                      options=[("grpc.ssl_target_name_override", "localhost")])
        method = "/tfplugin6.Provider/GetProviderSchema" if proto == "6" else "/tfplugin5.Provider/GetSchema"
        schema = channel.unary_unary(method, request_serializer=lambda b: b,
                                     response_deserializer=lambda b: b)(b"", timeout=args.timeout)
        if args.contains and args.contains.encode() not in schema:
            proc.kill()
            sys.exit(f"error: the schema ({len(schema)} bytes) does not contain {args.contains!r}")
        hwm = peak_rss_kib(proc.pid)
        try:
            channel.unary_unary("/plugin.GRPCController/Shutdown", request_serializer=lambda b: b,
                                response_deserializer=lambda b: b)(b"", timeout=args.timeout)
        except grpc.RpcError:
            pass  # the server may close the connection as it stops
        try:
            exit_codes.append(proc.wait(timeout=args.timeout))
        except subprocess.TimeoutExpired:
            proc.kill()
            sys.exit(f"error: {' '.join(command)} still running {args.timeout} s after Shutdown")
        times.append((time.perf_counter() - started) * 1000)
        rss.append(hwm)
        sizes.append(len(schema))
        channel.close()
    print(json.dumps({"times_ms": times, "vm_hwm_kib": rss, "schema_bytes": sizes[0], "handshakes": handshakes,
                      "exit_codes": exit_codes}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
