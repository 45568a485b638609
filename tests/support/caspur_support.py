"""What the Python suites under tests/ share (each adds this folder to its import path)."""

import os
import socket


def free_port() -> int:
    """A free port on 127.0.0.1 below the ephemeral range (32768+), so a port just handed out
    is not taken by an outgoing socket."""
    while True:
        with socket.socket() as s:
            port = 20000 + int.from_bytes(os.urandom(2), "big") % 12000
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
