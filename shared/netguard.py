"""The URL check of `shared.netcheck`, applied to every request a `requests` session makes.

Ingest calls `guard_session(streamlink_session.http)` for channels the API started. Then:

- every URL the session is asked to fetch is checked before anything is sent: the first one,
  each redirect target (requests sends each hop through the adapter), and each playlist and
  segment URL streamlink's HLS and DASH readers fetch; `file://` URLs are refused;
- each new connection resolves its host once, checks every address, and connects to a checked
  address (no second lookup that DNS rebinding could answer differently).

Through a proxy (`HTTPS_PROXY`, ...) only the URL check applies: the proxy resolves the name.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError

from shared.netcheck import Resolver, address_reason, private_reason, system_resolver

DEFAULT_PORTS = {"http": 80, "https": 443}


class RefusedURL(requests.exceptions.ConnectionError):
    """A request or connection would reach a private address; nothing was sent."""


@dataclass(frozen=True)
class Guard:
    """What counts as public. `allow`: `host:port` pairs treated as public anyway (tests use it
    to stand a loopback server in for a public one)."""

    resolve: Resolver = system_resolver
    allow: frozenset[str] = frozenset()

    def check_url(self, url: str) -> None:
        """Raise RefusedURL unless `url` is a public stream URL."""
        parts = urlsplit(url)
        with contextlib.suppress(ValueError):  # a bad port: the check below names it
            port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
            if f"{parts.hostname}:{port}" in self.allow:
                return
        reason = private_reason(url, self.resolve)
        if reason:
            raise RefusedURL(f"refused {url}: {reason}")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`; RefusedURL if any of them is not public."""
        if f"{host}:{port}" in self.allow:
            return [host]
        try:
            found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in self.resolve(host)]
        except (OSError, UnicodeError, ValueError) as err:
            raise RefusedURL(f"refused {host}: it cannot be resolved ({err})") from None
        for address in found:
            reason = address_reason(address)
            if reason:
                raise RefusedURL(f"refused {host}:{port}: {reason}")
        if not found:
            raise RefusedURL(f"refused {host}: it resolves to no address")
        return [str(a) for a in found]


class _CheckedConnection(HTTPConnection):
    """An HTTP connection that only connects to addresses the guard found public."""

    guard: Guard = Guard()

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        addresses = self.guard.addresses(host, self.port)
        error: Exception | None = None
        try:
            for address in addresses:
                self._dns_host = address  # TLS still checks the certificate for `self.host`
                try:
                    return super()._new_conn()
                except (OSError, ConnectTimeoutError) as err:  # next address, as urllib3 does
                    error = err
        finally:
            self._dns_host = host
        assert error is not None
        raise error


class _CheckedHTTPSConnection(_CheckedConnection, HTTPSConnection):
    """The same for HTTPS."""


class GuardedAdapter(HTTPAdapter):
    """A requests adapter that checks each request's URL and each connection's address."""

    def __init__(self, guard: Guard, **kwargs: Any) -> None:
        self.guard = guard
        attrs = {"guard": guard}
        conn = type("GuardedConnection", (_CheckedConnection,), attrs)
        tls = type("GuardedHTTPSConnection", (_CheckedHTTPSConnection,), attrs)
        self.pool_classes = {
            "http": type("GuardedPool", (HTTPConnectionPool,), {"ConnectionCls": conn}),
            "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": tls}),
        }
        super().__init__(**kwargs)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False,
                         **pool_kwargs: Any) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = self.pool_classes

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: float | tuple[float | None, float | None] | None = None,
             verify: bool | str = True, cert: str | tuple[str, str] | None = None,
             proxies: dict[str, str] | None = None) -> requests.Response:
        self.guard.check_url(request.url or "")
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert,
                            proxies=proxies)


def guard_session(session: requests.Session, resolve: Resolver = system_resolver,
                  allow: Collection[str] = ()) -> requests.Session:
    """Mount `GuardedAdapter` for http, https and file URLs on `session` (file: refused)."""
    guard = Guard(resolve, frozenset(allow))
    for prefix in ("http://", "https://", "file://"):
        session.mount(prefix, GuardedAdapter(guard))
    return session
