"""``cfreplay.serve.loopback.routed``: host names resolved to a loopback port inside the process, no resolver asked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from cfreplay.serve.loopback import routed


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, ...]]]:
    """A stand-in for the system resolver: records what it is asked and answers 192.0.2.1 (never the network)."""
    asked: list[tuple[Any, ...]] = []

    def answer(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        asked.append((host, port, family, type, proto, flags))
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("192.0.2.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", answer)
    yield asked
    assert socket.getaddrinfo is answer, "routed() did not restore the resolver it found"


def test_routed_names_resolve_to_the_port_and_others_pass_through(resolver: list[tuple[Any, ...]]) -> None:
    with routed(["API.Example.invalid", "uaa.example.invalid"], 4321):
        for host in ("api.example.invalid", "API.EXAMPLE.INVALID.", b"uaa.example.invalid"):
            assert socket.getaddrinfo(host, 80) == [
                (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", 4321))
            ]
        assert socket.getaddrinfo("api.example.invalid", "https", type=socket.SOCK_STREAM)[0][4] == ("127.0.0.1", 4321)
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("api.example.invalid", 80, socket.AF_INET6)
        assert socket.getaddrinfo("other.example", 443, flags=socket.AI_ADDRCONFIG)[0][4] == ("192.0.2.1", 443)
        assert resolver == [("other.example", 443, 0, 0, 0, socket.AI_ADDRCONFIG)]  # only the other name was asked
    assert socket.getaddrinfo("api.example.invalid", 80)[0][4] == ("192.0.2.1", 80)  # the route ended


def test_routes_nest_innermost_first(resolver: list[tuple[Any, ...]]) -> None:
    with routed(["api.example.invalid"], 1111):
        with routed(["api.example.invalid", "uaa.example.invalid"], 2222):
            assert socket.getaddrinfo("api.example.invalid", 80)[0][4] == ("127.0.0.1", 2222)
            assert socket.getaddrinfo("uaa.example.invalid", 80)[0][4] == ("127.0.0.1", 2222)
        assert socket.getaddrinfo("api.example.invalid", 80)[0][4] == ("127.0.0.1", 1111)
        assert socket.getaddrinfo("uaa.example.invalid", 80)[0][4] == ("192.0.2.1", 80)


def test_a_connection_by_name_reaches_the_loopback_server() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with routed(["service.example.invalid"], port), socket.create_connection(("service.example.invalid", 80)) as c:
            accepted, _ = server.accept()
            with accepted:
                c.sendall(b"ping")
                assert accepted.recv(4) == b"ping"
