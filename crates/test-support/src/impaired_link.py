"""A network link with latency and packet loss, in user space, for tests/e2e_network_faults.rs.

The kernel's netem qdisc is missing on this project's machines, so this relays Ethernet frames between
two interfaces of a namespace of the test's own (raw AF_PACKET sockets): every frame, in each direction,
is dropped with the given probability or else delivered after the given delay. The interfaces carry no
addresses, so the namespace's own stack never touches the frames.

    python3 impaired_link.py IF_A IF_B DELAY_MS LOSS_PERCENT STATS_FILE

Prints "ready" once both sockets are bound; rewrites STATS_FILE (JSON: frames seen, dropped, delivered)
every second. Runs until killed.
"""

import heapq
import json
import os
import random
import select
import socket
import sys
import time

ETH_P_ALL = 3
PACKET_OUTGOING = 4  # frames this relay sent itself, seen again on the way out


def bound(name):
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    sock.bind((name, 0))
    sock.setblocking(False)
    return sock


def main():
    if_a, if_b, delay_ms, loss_percent, stats_file = sys.argv[1:6]
    delay = float(delay_ms) / 1000.0
    loss = float(loss_percent) / 100.0
    a, b = bound(if_a), bound(if_b)
    other = {a: b, b: a}
    due = []  # (when, order, socket to send on, frame)
    order = 0
    stats = {"seen": 0, "dropped": 0, "delivered": 0, "send_errors": 0}
    last_write = 0.0
    print("ready", flush=True)
    while True:
        now = time.monotonic()
        wait = min(max(0.0, due[0][0] - now), 0.5) if due else 0.5
        readable, _, _ = select.select([a, b], [], [], wait)
        for sock in readable:
            while True:
                try:
                    frame, address = sock.recvfrom(65535)
                except BlockingIOError:
                    break
                if address[2] == PACKET_OUTGOING:
                    continue
                stats["seen"] += 1
                if random.random() < loss:
                    stats["dropped"] += 1
                    continue
                order += 1
                heapq.heappush(due, (time.monotonic() + delay, order, other[sock], frame))
        now = time.monotonic()
        while due and due[0][0] <= now:
            _, _, out, frame = heapq.heappop(due)
            try:
                out.send(frame)
                stats["delivered"] += 1
            except OSError:
                stats["send_errors"] += 1
        if now - last_write >= 1.0:
            last_write = now
            with open(stats_file + ".tmp", "w") as f:
                json.dump(stats, f)
            os.replace(stats_file + ".tmp", stats_file)


if __name__ == "__main__":
    main()
