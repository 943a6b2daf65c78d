"""Is a stream URL private? One check, used by the API before it starts a stream and by ingest
before each connection (a host name can point somewhere else later: DNS rebinding).

Someone who can call the API should not be able to make the server read its own files, its
devices, or machines on its private network. So a source URL is "private" (refused) when:

- it is a file path, a `file:` URL or a `capture://` device (they read this machine);
- it uses a scheme that is not a network stream (FFmpeg's `concat:`, `pipe:`, `subfile:`, ...);
- it is written so that programs could read its host differently: a backslash, a user name
  (`user@host`), `%`, spaces, control or non-ASCII characters in the host part, or an IPv4
  address in any form but plain dotted decimal (`2130706433`, `0x7f000001`, `0177.0.0.1`,
  `127.1`);
- its host is an IPv6 address that carries an IPv4 one (`::ffff:a.b.c.d`, `::a.b.c.d`,
  NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, Teredo, or 6to4 `2002::/16` around a private one);
- its host is missing, or is (or resolves to) an address that is not public: loopback,
  private ranges, link-local, carrier-grade NAT, multicast, reserved, unspecified;
- its host name cannot be resolved (we cannot tell where it goes).

Host names are resolved with `socket.getaddrinfo`, as the programs that connect do; every
address must be public. The resolver is a parameter, so tests can give names their own answers.
`shared.netguard` applies the same rules to every request and connection streamlink makes.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
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
_HOST_PORT = re.compile(r"^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::(\d{0,5}))?$")
_LABEL = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_NUMBER = re.compile(r"^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$")
"""A label that URL parsers (WHATWG, inet_aton) read as part of an IPv4 number."""
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
COMPATIBLE = ipaddress.ip_network("::/96")


def system_resolver(host: str) -> list[str]:
    """Every address the system resolves `host` to, in the order it prefers (as a connecting
    program would)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_url(source: str) -> bool:
    """True when `source` names something to fetch over a network, not a local file."""
    return "://" in source and not source.startswith("file://")


def private_reason(url: str, resolve: Resolver = system_resolver) -> str | None:
    """Why `url` counts as private (a short sentence), or None when it is a public stream."""
    try:
        return _reason(url, resolve)
    except ValueError:
        return "the URL cannot be read"


def _reason(url: str, resolve: Resolver) -> str | None:
    text = url.strip()
    if not text:
        return "the URL is empty"
    if any(c < " " or c == "\x7f" for c in text):
        return "the URL has control characters (tabs, line breaks, ...)"
    if text.lower().startswith(FFMPEG_PREFIX):
        return _reason(text[len(FFMPEG_PREFIX):], resolve)
    match = _SCHEME.match(text)
    if match is None:
        if _looks_like_path(text):
            return "it is a file on this machine"
        if ":" in text.split("/", 1)[0] and not _host_with_port(text):
            return "it is not a network URL"
        return _authority_reason(_authority(text), resolve)
    scheme = match.group(1).lower()
    if scheme in LOCAL_SCHEMES:
        return f"{scheme}:// reads this machine"
    if scheme in STREAMLINK_SCHEMES:
        rest = text[match.end():]
        return _reason(rest if _SCHEME.match(rest) else "https://" + rest, resolve)
    if scheme not in NETWORK_SCHEMES:
        return f"{scheme}:// is not a network stream"
    return _authority_reason(_authority(text[match.end():]), resolve)


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", ".", "~", "\\")) or bool(_WINDOWS_PATH.match(text))


def _host_with_port(text: str) -> bool:
    """`example.com:8080/x` has a colon but is still a host."""
    return bool(re.match(r"^[^/:]+:\d+(/|$)", text))


def _authority(rest: str) -> str:
    """The host part (`host:port`) of what follows `scheme://`, as RFC 3986 reads it."""
    return re.split(r"[/?#]", rest, maxsplit=1)[0]


def split_host(authority: str) -> tuple[str, int | None] | str:
    """`(host, port)` of a plain `host[:port]`, or why it is not plain (a short sentence).

    Only what every URL parser reads the same way is plain: no backslash, no `user@`, no `%`,
    no spaces, control or non-ASCII characters, and a port of digits only."""
    if "\\" in authority:
        return "the host part has a backslash (programs read it differently)"
    if "@" in authority:
        return "the URL carries a user name (user@host), which can hide the real host"
    if not authority.isascii() or any(c <= " " or c == "\x7f" for c in authority):
        return "the host part has spaces, control or non-ASCII characters (write xn--...)"
    match = _HOST_PORT.match(authority)
    if match is None:
        return "the host part is not a plain name or address"
    v6, name, port = match.groups()
    if port and not 0 < int(port) < 65_536:
        return f"the port {port} is not a port"
    return (v6 or name, int(port) if port else None)


def _authority_reason(authority: str, resolve: Resolver) -> str | None:
    if not authority:
        return "the URL names no host"
    split = split_host(authority)
    if isinstance(split, str):
        return split
    return host_reason(split[0], resolve)


def host_reason(host: str, resolve: Resolver = system_resolver) -> str | None:
    """Why a plain host (a name, a dotted IPv4, an IPv6 without brackets) is not public."""
    if ":" in host:
        try:
            return literal_reason(ipaddress.IPv6Address(host))
        except ValueError:
            return f"the host {host} is not an IPv6 address"
    labels = host.removesuffix(".").split(".")
    if not host or not all(_LABEL.match(label) for label in labels):
        return "the URL names no host" if not host.strip(".") else f"{host} is not a host name"
    if _NUMBER.match(labels[-1]):
        try:
            return literal_reason(ipaddress.IPv4Address(host))
        except ValueError:
            return (f"the host {host} is an IPv4 address in an unusual form (only dotted "
                    "decimal like 93.184.215.14 is taken)")
    try:
        found = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(host)]
    except (OSError, UnicodeError, ValueError) as err:
        return f"the host {host} cannot be resolved ({type(err).__name__})"
    if not found:
        return f"the host {host} resolves to no address"
    for address in found:
        reason = address_reason(address)
        if reason:
            return f"the host {host} resolves to {reason.removeprefix('it is ')}"
    return None


def literal_reason(address: IPAddress) -> str | None:
    """Why an address written in a URL is not public. Stricter than `address_reason`: an IPv6
    address that carries an IPv4 one is refused whatever that one is (write the IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.sixtofour is None \
            and embedded_ipv4(address) is not None:
        return f"it is {address}, an IPv6 address that carries an IPv4 one"
    return address_reason(address)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, -translated, -compatible, NAT64 or 6to4
    address, or None."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in TRANSLATED or address in NAT64 or (
            address in COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
    return None


def address_reason(address: IPAddress) -> str | None:
    """Why an address a name resolved to (or a connection reached) is not public, or None.

    An IPv4-mapped or NAT64 (64:ff9b::/96) address is judged by the IPv4 address inside it
    (DNS64 networks hand those out for public names); other IPv4-carrying forms are refused."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.teredo is not None:
            return f"it is {address}, a Teredo address"
        if address in NAT64_LOCAL:
            return f"it is {address}, a local-use NAT64 address"
        if address in TRANSLATED or (address in COMPATIBLE and int(address) > 1):
            return f"it is {address}, an IPv6 address that carries an IPv4 one"
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = address_reason(inner)
            if reason:
                return f"it is {address}, which carries {reason.removeprefix('it is ')}"
            if address.sixtofour is None:
                return None  # mapped or NAT64: the IPv4 address inside is what is reached
    return _plain_reason(address)


def _plain_reason(address: IPAddress) -> str | None:
    if address.is_loopback:
        return f"it is {address}, a loopback address"
    if address.is_unspecified:
        return f"it is {address}, the unspecified address"
    if address.is_link_local:
        return f"it is {address}, a link-local address"
    if address.is_multicast:
        return f"it is {address}, a multicast address"
    site_local = isinstance(address, ipaddress.IPv6Address) and address.is_site_local
    if site_local or address.is_private or address.is_reserved or not address.is_global:
        return f"it is {address}, a private or reserved address"
    return None
