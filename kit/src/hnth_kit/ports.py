"""Ports for processes started by the native stack and by tests."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path


def ephemeral_ports() -> range:
    """The range the kernel takes local ports of outgoing connections from."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 65536)  # Linux's default and IANA's dynamic range together


def free_port() -> int:
    """A free port OUTSIDE the ephemeral range: a process that binds it only after seconds
    of imports must not find it taken by some outgoing connection's local port meanwhile
    (a port the kernel hands out from `bind(0)` is in that range)."""
    ephemeral = ephemeral_ports()
    candidates: list[int] = [
        *range(20000, min(ephemeral.start, 65536)),
        *range(max(ephemeral.stop, 20000), 65536),
    ]
    for _ in range(200 if candidates else 0):
        port = candidates[secrets.randbelow(len(candidates))]
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (or TIME_WAIT): try another
            return port
    with socket.socket() as s:  # the ephemeral range covers (nearly) all: take any
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
