"""Where a stream comes from, and how FFmpeg should open it.

This module is pure: it only looks at the URL text. It does not open anything.

What a URL turns into (kind: who opens it):

- `twitch.tv/name`, `https://twitch.tv/name` -> `streamlink`: streamlink reads it, FFmpeg records.
- `http(s)://…/x.m3u8`, `hls://…` -> `streamlink` (its HLS plugin). With the setting
  `ingest_hls_via="ffmpeg"`, plain `.m3u8` URLs go to FFmpeg alone instead.
- any other `http(s)://…` -> `streamlink` if a plugin knows the site, else FFmpeg alone.
- `ffmpeg:<anything>` -> `ffmpeg`: FFmpeg alone opens what follows the prefix.
- `rtmp://`, `rtsp://`, `srt://`, `udp://`, `tcp://`, `rtp://` -> `ffmpeg`: FFmpeg alone.
- `/path/video.mp4`, `./x.ts`, `file:///…` -> `file`: FFmpeg, paced in real time (`-re`).
- `capture://screen?video=:0.0&audio=default` -> `capture`: FFmpeg device inputs
  (see `capture_inputs`).

A capture takes screen (or camera) video and microphone audio as two separate FFmpeg inputs and
FFmpeg merges them. Raw device video cannot be stream-copied, so a capture is encoded (H.264 +
AAC, a key frame every segment). Every other kind is copied as it is: ingest never decodes video.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

SourceKind = Literal["streamlink", "ffmpeg", "file", "capture"]

FFMPEG_PREFIX = "ffmpeg:"
CAPTURE_SCHEME = "capture"
FFMPEG_ONLY_SCHEMES = {"rtmp", "rtmps", "rtsp", "rtsps", "srt", "udp", "tcp", "rtp"}
STREAMLINK_SCHEMES = {"hls", "hlsvariant", "httpstream", "dash"}


class SourceError(ValueError):
    """The URL cannot be used. The message says why, in plain words."""


@dataclass(frozen=True)
class Source:
    """How to read one stream.

    `target` is what streamlink or FFmpeg opens. `input_args` are FFmpeg's arguments up to and
    including the last `-i`. `video_map` / `audio_map` pick the streams to record, and
    `pcm_map` the one audio stream to turn into PCM.
    """

    kind: SourceKind
    url: str
    target: str
    input_args: list[str] = field(default_factory=list)
    video_map: str = "0:v?"
    audio_map: str = "0:a?"
    pcm_map: str = "0:a:0"
    codec_args: list[str] = field(default_factory=lambda: ["-c", "copy"])
    ffmpeg_fallback: bool = False
    """For `streamlink` sources: open with FFmpeg alone if no streamlink plugin knows the URL."""

    @property
    def reads_stdin(self) -> bool:
        """True when FFmpeg reads the bytes we pump in from streamlink."""
        return self.kind == "streamlink"

    @property
    def is_live(self) -> bool:
        """A file ends for good at its end; anything else may come back after a drop."""
        return self.kind != "file"


def classify(url: str, *, hls_via: str = "streamlink", segment_s: float = 2.0,
             platform: str = sys.platform) -> Source:
    """Turn a URL into a `Source`. Raises `SourceError` for a URL we cannot use."""
    text = url.strip()
    if not text:
        raise SourceError("no URL given")
    if text.startswith(FFMPEG_PREFIX):
        target = text[len(FFMPEG_PREFIX):].strip()
        if not target:
            raise SourceError(f"{url}: nothing after '{FFMPEG_PREFIX}'")
        return ffmpeg_source(url, target)
    scheme = _scheme(text)
    if scheme == CAPTURE_SCHEME:
        return capture_source(url, segment_s=segment_s, platform=platform)
    if scheme == "file":
        return file_source(url, unquote(urlsplit(text).path))
    if scheme is None and _looks_like_path(text):
        return file_source(url, text)
    if scheme in FFMPEG_ONLY_SCHEMES:
        return ffmpeg_source(url, text)
    if scheme in {"http", "https"} and hls_via == "ffmpeg" and is_hls_url(text):
        return ffmpeg_source(url, text)
    if scheme in {"http", "https"}:
        return Source("streamlink", url, text, input_args=["-i", "pipe:0"], ffmpeg_fallback=True)
    if scheme is None or scheme in STREAMLINK_SCHEMES:
        return Source("streamlink", url, text, input_args=["-i", "pipe:0"])
    raise SourceError(f"{url}: unknown kind of URL ({scheme}://)")


def public_source(source: Source) -> Source:
    """The same source, fit for a URL someone sent over the API: streamlink's requests are
    checked hop by hop (see `shared.netguard`), but FFmpeg follows HTTP redirects with no
    check at all, so it may not open HTTP by itself. Raises `SourceError` when it would."""
    if source.kind == "ffmpeg" and _scheme(source.target) in {"http", "https"}:
        raise SourceError("FFmpeg would open this web address by itself and follow its "
                          "redirects unchecked; only streamlink may open web addresses sent "
                          "over the API")
    return replace(source, ffmpeg_fallback=False)


def ffmpeg_source(url: str, target: str) -> Source:
    """FFmpeg opens the URL itself. A read that hangs 10 s is an error (`-rw_timeout`)."""
    args: list[str] = []
    if _scheme(target) in {"http", "https"}:
        args += ["-rw_timeout", "10000000"]
    return Source("ffmpeg", url, target, input_args=[*args, "-i", target])


def file_source(url: str, path: str) -> Source:
    """A local file, read at its own speed (`-re`) so it behaves like a live stream."""
    return Source("file", url, path, input_args=["-re", "-i", path])


def unpaced(source: Source) -> Source:
    """A file source read as fast as it can be (no `-re`): VOD mode. Others stay as they are."""
    if source.kind != "file":
        return source
    return replace(source, input_args=[a for a in source.input_args if a != "-re"])


def is_hls_url(url: str) -> bool:
    """True when the URL's path ends in `.m3u8` (an HLS playlist)."""
    return urlsplit(url).path.lower().endswith(".m3u8")


def _scheme(text: str) -> str | None:
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", text)
    if match:
        return match.group(1).lower()
    if text.startswith(FFMPEG_PREFIX):
        return "ffmpeg"
    return None


def _looks_like_path(text: str) -> bool:
    return (text.startswith(("/", "./", "../", "~")) or bool(re.match(r"^[A-Za-z]:[\\/]", text))
            or text.startswith("\\\\"))


# ---- Local capture ------------------------------------------------------------------------------

# Which FFmpeg device reads what, per platform: (screen, camera, microphone).
CAPTURE_DEVICES: dict[str, tuple[str, str, str]] = {
    "linux": ("x11grab", "v4l2", "pulse"),
    "darwin": ("avfoundation", "avfoundation", "avfoundation"),
    "win32": ("gdigrab", "dshow", "dshow"),
}
# The device to read when the URL names none.
DEFAULT_DEVICES: dict[str, dict[str, str]] = {
    "linux": {"screen": ":0.0", "camera": "/dev/video0", "audio": "default"},
    "darwin": {"screen": "1", "camera": "0", "audio": "0"},
    "win32": {"screen": "desktop", "camera": "", "audio": ""},
}


def capture_source(url: str, *, segment_s: float = 2.0, platform: str = sys.platform) -> Source:
    """A local capture: video from the screen or a camera, audio from a microphone.

    `capture://screen?video=:0.0&audio=default` on Linux becomes
    `-f x11grab -framerate 30 -i :0.0 -f pulse -i default`. See `capture_inputs`.
    """
    inputs = capture_inputs(url, platform=platform)
    fps = _fps(url)
    gop = max(1, round(fps * segment_s))
    codec_args = [
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-force_key_frames", f"expr:gte(t,n_forced*{segment_s:g})",
        "-c:a", "aac", "-b:a", "128k",
    ]
    return Source("capture", url, url, input_args=inputs, video_map="0:v:0", audio_map="1:a:0",
                  pcm_map="1:a:0", codec_args=codec_args)


def capture_inputs(url: str, *, platform: str = sys.platform) -> list[str]:
    """FFmpeg's two inputs for a capture URL: input 0 is the video, input 1 the audio.

    The URL is `capture://<screen|camera>?video=<device>&audio=<device>` with optional
    `fps=30`, `size=1280x720`, `video_api=<ffmpeg device>` and `audio_api=<ffmpeg device>`:

    - Linux: screen `-f x11grab -i :0.0`, camera `-f v4l2 -i /dev/video0`,
      microphone `-f pulse -i default` (or `audio_api=alsa`: `-f alsa -i default`);
    - macOS: screen `-f avfoundation -i 1:none`, camera `-f avfoundation -i 0:none`,
      microphone `-f avfoundation -i none:0`;
    - Windows: screen `-f gdigrab -i desktop`, camera `-f dshow -i video=<name>`,
      microphone `-f dshow -i audio=<name>`.
    """
    parts = urlsplit(url.strip())
    what = (parts.netloc or parts.path.strip("/")).lower()
    if what not in {"screen", "camera"}:
        raise SourceError(f"{url}: capture what? use capture://screen or capture://camera")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    plat = _platform_key(platform)
    screen_api, camera_api, mic_api = CAPTURE_DEVICES[plat]
    video_api = query.get("video_api") or (screen_api if what == "screen" else camera_api)
    audio_api = query.get("audio_api") or mic_api
    video = query.get("video") or DEFAULT_DEVICES[plat][what]
    audio = query.get("audio") or DEFAULT_DEVICES[plat]["audio"]
    if not video:
        raise SourceError(f"{url}: name the video device (video=...)")
    if not audio or audio == "none":
        raise SourceError(f"{url}: name the microphone (audio=...); ingest needs sound")
    size = query.get("size", "")
    if size and not re.match(r"^\d+x\d+$", size):
        raise SourceError(f"{url}: size must look like 1280x720, not {size!r}")

    video_in = ["-f", video_api, "-framerate", f"{_fps(url):g}"]
    if size:
        video_in += ["-video_size", size]
    video_in += ["-i", _device_name(video_api, video, "video")]
    audio_in = ["-f", audio_api, "-i", _device_name(audio_api, audio, "audio")]
    return [*video_in, *audio_in]


def _device_name(api: str, device: str, what: str) -> str:
    """How each FFmpeg device wants the device written."""
    if api == "avfoundation":
        return f"{device}:none" if what == "video" else f"none:{device}"
    if api == "dshow" and not device.startswith(f"{what}="):
        return f"{what}={device}"
    return device


def _fps(url: str) -> float:
    query = parse_qs(urlsplit(url.strip()).query)
    raw = query.get("fps", ["30"])[-1]
    try:
        fps = float(raw)
    except ValueError:
        raise SourceError(f"{url}: fps must be a number, not {raw!r}") from None
    if not 1 <= fps <= 120:
        raise SourceError(f"{url}: fps must be between 1 and 120")
    return fps


def _platform_key(platform: str) -> str:
    if platform.startswith("win"):
        return "win32"
    if platform == "darwin":
        return "darwin"
    return "linux"
