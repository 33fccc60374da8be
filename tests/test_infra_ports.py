"""The ports the system tests give their service processes: never one the kernel may hand
an outgoing connection as its local port while the process is still importing."""

from __future__ import annotations

import socket

from hnth_kit.ports import ephemeral_ports, free_port


def test_free_ports_lie_outside_the_ephemeral_range_and_are_bindable() -> None:
    ephemeral = ephemeral_ports()
    ports = {free_port() for _ in range(50)}
    assert not ports & set(ephemeral)
    assert len(ports) > 40  # random, so parallel test sessions rarely pick the same one
    for port in list(ports)[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
