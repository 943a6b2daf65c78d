"""The hostile source URLs that every door must refuse: the API (POST /api/channels and
GET /start-monitoring) and ingest's check before each connection. One table, so the doors
cannot drift apart. Each row: the URL, and a word the reason must contain."""

from __future__ import annotations

NAMES = {
    "stream.example": ["93.184.215.14"],
    "v6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "dns64.example": ["64:ff9b::5db8:d70e"],  # a DNS64 answer for 93.184.215.14: public
    "mapped-public.example": ["::ffff:93.184.215.14"],
    "inside.example": ["93.184.215.14", "192.168.1.20"],  # one private answer is enough
    "mapped.example": ["::ffff:10.0.0.1"],
    "nat64.example": ["64:ff9b::7f00:1"],
    "nat64-local.example": ["64:ff9b:1::5db8:d70e"],
    "sixtofour.example": ["2002:c0a8:101::1"],
    "teredo.example": ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "compat.example": ["::7f00:1"],
    "empty.example": [],
    "localhost": ["127.0.0.1", "::1"],  # as the system answers (the API tests use its answer)
}


def resolve(host: str) -> list[str]:
    """Name answers of our own, so the tests need no DNS."""
    if host.lower().rstrip(".") not in NAMES:
        raise OSError(f"unknown host {host}")
    return NAMES[host.lower().rstrip(".")]


PUBLIC_URLS = [
    "https://stream.example/live.m3u8", "stream.example/channel", "hls://stream.example/x.m3u8",
    "hls://https://stream.example/x.m3u8", "rtmp://stream.example/app/key",
    "ffmpeg:https://stream.example/x.ts", "http://v6.example:8080/x", "http://93.184.215.14/x",
    "stream.example:8080/live", "http://dns64.example/x.m3u8", "http://mapped-public.example/",
    "https://[2606:4700::1111]/x.m3u8", "http://[2002:5db8:d70e::1]/x", "HTTP://STREAM.EXAMPLE./x",
    "http://stream.example/a\\b@c?d=@127.0.0.1#@10.0.0.1",  # after the host part: no host
]

BACKSLASH = [
    ("http://127.0.0.1:9\\@93.184.215.14/live.m3u8", "backslash"),  # urllib3 goes to 127.0.0.1
    ("http://93.184.215.14\\@127.0.0.1/live.m3u8", "backslash"),
    ("https://93.184.215.14\\\\127.0.0.1/x", "backslash"),
    ("hls://127.0.0.1:9\\@93.184.215.14/live.m3u8", "backslash"),
    ("93.184.215.14\\@127.0.0.1/live.m3u8", "backslash"),
    ("http://localhost\\@93.184.215.14/", "backslash"),
]
USERINFO = [
    ("http://93.184.215.14@127.0.0.1/", "user name"),
    ("http://127.0.0.1:9@93.184.215.14/", "user name"),
    ("http://user:pass@93.184.215.14/x.m3u8", "user name"),
    ("http://[::1]@93.184.215.14/", "user name"),
    ("rtmp://a@127.0.0.1/app", "user name"),
    ("udp://@:1234", "user name"),
    ("http://93.184.215.14%40127.0.0.1/", "not a plain"),
    ("http://%31%32%37.0.0.1/", "not a plain"),
    ("http://127.0.0.1 .stream.example/", "spaces"),
    ("http://127.0.0.1\t.93.184.215.14/", "control"),
    ("http://93.184.215.14\r\n@127.0.0.1/", "control"),
    ("http://\uff4cocalhost/", "non-ASCII"),  # a full-width l
    ("http://127\u30020\u30020\u30021/", "non-ASCII"),  # ideographic full stops
]
IPV6_FORMS = [
    ("http://[::127.0.0.1]/", "carries an IPv4"), ("http://[::7f00:1]:6379/", "carries an IPv4"),
    ("http://[::ffff:127.0.0.1]/", "carries an IPv4"), ("http://[::ffff:7f00:1]/", "IPv4"),
    ("http://[::ffff:93.184.215.14]/", "carries an IPv4"),  # write the IPv4 itself
    ("http://[::ffff:0:127.0.0.1]/", "carries an IPv4"),
    ("http://[64:ff9b::127.0.0.1]/", "carries an IPv4"),
    ("http://[64:ff9b::7f00:1]/", "carries an IPv4"),
    ("http://[64:ff9b::a9fe:a9fe]/latest", "carries an IPv4"),
    ("http://[64:ff9b:1::a00:1]/", "local-use NAT64"),
    ("http://[2002:7f00:1::]/", "127.0.0.1, a loopback"),
    ("http://[2002:c0a8:101::1]/", "192.168.1.1"),
    ("http://[2002:a9fe:a9fe::]/", "link-local"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://[::1]/x", "loopback"), ("http://[::]/", "unspecified"),
    ("http://[fe80::1]/", "link-local"), ("http://[fe80::1%25eth0]/", "not a plain"),
    ("http://[fc00::1]/", "private"), ("http://[fec0::1]/", "private"),
    ("udp://[ff02::1]:1234", "multicast"), ("http://[v1.x]/", "not a plain"),
]
NUMERIC_HOSTS = [
    ("http://2130706433/", "unusual form"), ("http://2130706433:6379/", "unusual form"),
    ("http://0x7f000001/", "unusual form"), ("http://0X7F000001/", "unusual form"),
    ("http://0177.0.0.1/", "unusual form"), ("http://00000127.0.0.1/", "unusual form"),
    ("http://127.000.000.001/", "unusual form"), ("http://127.1/", "unusual form"),
    ("http://127.0.1/", "unusual form"), ("http://0x7f.0.0.1/", "unusual form"),
    ("http://0x7f.1/", "unusual form"), ("http://017700000001/", "unusual form"),
    ("http://127.0.0.1./", "unusual form"), ("http://0/", "unusual form"),
    ("http://3232235777/", "unusual form"), ("http://0xa9fea9fe/latest", "unusual form"),
    ("http://1.2.3.4.5/", "unusual form"), ("http://example.0x/", "unusual form"),
    ("hlsvariant://127.1/x.m3u8", "unusual form"), ("dash://2130706433/x.mpd", "unusual form"),
]
PLAIN_PRIVATE = [
    ("http://127.0.0.1/x", "loopback"), ("http://127.8.9.1:99/x", "loopback"),
    ("http://0.0.0.0/", "unspecified"), ("http://10.1.2.3/x", "private"),
    ("http://172.16.0.1/x", "private"), ("http://192.168.0.1/x", "private"),
    ("http://100.64.0.1/x", "private"), ("http://169.254.169.254/latest", "link-local"),
    ("udp://239.0.0.1:1234", "multicast"), ("http://240.0.0.1/", "private"),
    ("hls://127.0.0.1/x.m3u8", "loopback"), ("ffmpeg:http://127.0.0.1:6379/", "loopback"),
    ("hls://http://[::ffff:127.0.0.1]/x", "IPv4"), ("http://localhost:6379/", "loopback"),
    ("http://LocalHost/x.m3u8", "loopback"), ("http://127.0.0.1:0/", "not a port"),
    ("http://93.184.215.14:65536/", "not a port"),
]
LOCAL_AND_SCHEMES = [
    ("/etc/passwd", "file"), ("./clip.mp4", "file"), ("C:\\video.mp4", "file"),
    ("file:///etc/passwd", "file://"), ("capture://screen?video=:0.0", "capture://"),
    ("ffmpeg:/dev/video0", "file"), ("ffmpeg:concat:a.ts|b.ts", "not a network URL"),
    ("gopher://stream.example/", "not a network stream"), ("http:///x", "no host"),
]
HOSTILE_URLS = BACKSLASH + USERINFO + IPV6_FORMS + NUMERIC_HOSTS + PLAIN_PRIVATE + \
    LOCAL_AND_SCHEMES
"""Refused without a name lookup (or with the system's own: `localhost`): every door."""

HOSTILE_NAMES = [
    ("http://inside.example/x", "192.168.1.20"), ("http://mapped.example/x", "10.0.0.1"),
    ("http://nat64.example/x", "127.0.0.1"), ("http://nat64-local.example/", "local-use"),
    ("http://sixtofour.example/", "192.168.1.1"), ("http://teredo.example/", "Teredo"),
    ("http://compat.example/", "carries an IPv4"), ("http://nowhere.example/x", "resolved"),
    ("http://empty.example/", "no address"),
]
"""Names whose answers (from `resolve`) are not public: the check with a resolver of its own."""
