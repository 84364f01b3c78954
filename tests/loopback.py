"""What every test server on 127.0.0.1 needs: a port nobody holds."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A free TCP port on loopback (servers whose readiness check connects to the port they
    were given need one picked first, not 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
