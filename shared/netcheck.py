"""Is a stream URL private? A pure check, so the API can refuse URLs that reach inside, and
ingest can check such a channel's URL again before each connection (a host name can point
somewhere else later: DNS rebinding).

Someone who can call the API should not be able to make the server read its own files, its
devices, or machines on its private network. So a source URL is "private" when:

- it is a file path, a `file:` URL or a `capture://` device (they read this machine);
- it uses a scheme that is not a network stream (FFmpeg's `concat:`, `pipe:`, `subfile:`, ...);
- its host is missing, or is (or resolves to) an address that is not public: loopback,
  private ranges, link-local, carrier-grade NAT, multicast, reserved, unspecified;
- its host name cannot be resolved (we cannot tell where it goes).

Host names are resolved with `socket.getaddrinfo`; every address must be public. The resolver is
a parameter, so tests can give names their own answers.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

Resolver = Callable[[str], Iterable[str]]
"""Turns a host name into its IP addresses (as text). Raises OSError when it cannot."""

NETWORK_SCHEMES = {
    "http", "https", "rtmp", "rtmps", "rtsp", "rtsps", "srt", "udp", "tcp", "rtp",
}
STREAMLINK_SCHEMES = {"hls", "hlsvariant", "httpstream", "dash"}
LOCAL_SCHEMES = {"file", "capture"}
FFMPEG_PREFIX = "ffmpeg:"
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://")
_WINDOWS_PATH = re.compile(r"^[a-zA-Z]:[\\/]")


def system_resolver(host: str) -> list[str]:
    """Every address the system resolves `host` to."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def private_reason(url: str, resolve: Resolver = system_resolver) -> str | None:
    """Why `url` counts as private (a short sentence), or None when it is a public stream."""
    try:
        return _reason(url, resolve)
    except ValueError:  # urlsplit's "Invalid IPv6 URL", a bad port, ...
        return "the URL cannot be read"


def _reason(url: str, resolve: Resolver) -> str | None:
    text = url.strip()
    if not text:
        return "the URL is empty"
    if text.lower().startswith(FFMPEG_PREFIX):
        return _reason(text[len(FFMPEG_PREFIX):], resolve)
    match = _SCHEME.match(text)
    if match is None:
        if _looks_like_path(text):
            return "it is a file on this machine"
        if ":" in text.split("/", 1)[0] and not _host_with_port(text):
            return "it is not a network URL"
        return _host_reason(urlsplit("https://" + text).hostname, resolve)
    scheme = match.group(1).lower()
    if scheme in LOCAL_SCHEMES:
        return f"{scheme}:// reads this machine"
    if scheme in STREAMLINK_SCHEMES:
        rest = text[match.end():]
        return _reason(rest if _SCHEME.match(rest) else "https://" + rest, resolve)
    if scheme not in NETWORK_SCHEMES:
        return f"{scheme}:// is not a network stream"
    return _host_reason(urlsplit(text).hostname, resolve)


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", ".", "~", "\\")) or bool(_WINDOWS_PATH.match(text))


def _host_with_port(text: str) -> bool:
    """`example.com:8080/x` has a colon but is still a host."""
    return bool(re.match(r"^[^/:]+:\d+(/|$)", text))


def _host_reason(host: str | None, resolve: Resolver) -> str | None:
    if not host:
        return "the URL names no host"
    address = _as_ip(host)
    if address is not None:
        return _address_reason(address)
    try:
        found = [a for a in (_as_ip(text) for text in resolve(host)) if a is not None]
    except (OSError, UnicodeError, ValueError) as err:
        return f"the host {host} cannot be resolved ({type(err).__name__})"
    if not found:
        return f"the host {host} resolves to no address"
    for address in found:
        reason = _address_reason(address)
        if reason:
            return f"the host {host} resolves to {reason.removeprefix('it is ')}"
    return None


def _as_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (`fe80::1%eth0`)
    except ValueError:
        return None


def _address_reason(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why an address is not public, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (
            address.teredo[1] if address.teredo else None)
        if inner is not None:
            return _address_reason(inner)
    if address.is_loopback:
        return f"it is {address}, a loopback address"
    if address.is_unspecified:
        return f"it is {address}, the unspecified address"
    if address.is_link_local:
        return f"it is {address}, a link-local address"
    if address.is_multicast:
        return f"it is {address}, a multicast address"
    if address.is_private or not address.is_global:
        return f"it is {address}, a private or reserved address"
    return None
