"""The one FFmpeg command that makes a short. Pure: builds text and argument lists.

One pass reads the clip once and writes both files: the short (crop or stack, scaled, captions
burned in by libass, H.264 + AAC, loudness made even with `loudnorm`, `faststart` so it plays
while it downloads) and its thumbnail (one frame of the finished picture, as a JPEG).

In `crop`, the window's moves come from a `sendcmd` file: a command for each frame where the
window's left edge changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .crop import even
from .layout import TOP_SHARE, Plan

LOUDNESS_LUFS = -14.0
"""What short-video apps aim for (EBU R128 integrated loudness)."""
TRUE_PEAK_DB = -1.5


@dataclass(frozen=True)
class Encode:
    """How the short is encoded."""

    preset: str = "superfast"
    crf: int = 21
    audio_kbps: int = 160
    threads: int = 0
    """0: FFmpeg picks."""


def sendcmd_text(lefts: Sequence[int], fps: float) -> str:
    """`sendcmd` commands that move the crop window: one line where its left edge changes."""
    lines: list[str] = []
    last: int | None = None
    for n, left in enumerate(lefts):
        if left != last:
            lines.append(f"{n / fps:.4f} crop x {left};")
            last = left
    return "\n".join(lines) + "\n"


def _quote(path: Path) -> str:
    """A path inside a filter graph: quoted, with the characters FFmpeg treats specially
    escaped."""
    text = str(path).replace("\\", "/").replace("'", "\\'").replace(":", "\\:")
    return f"'{text}'"


def video_graph(plan: Plan, out_w: int, out_h: int, ass: Path | None,
                commands: Path | None) -> str:
    """The video part of the filter graph, ending in two outputs: [v] and [thumb]."""
    if plan.layout == "crop":
        assert plan.window is not None
        win = plan.window
        move = f"sendcmd=f={_quote(commands)}," if commands is not None else ""
        picture = (f"[0:v]{move}crop=w={win.w}:h={win.h}:x={win.x}:y={win.y},"
                   f"scale={out_w}:{out_h}:flags=bicubic,setsar=1[pic]")
    else:
        assert plan.facecam is not None and plan.game is not None
        cam, game = plan.facecam, plan.game
        top_h = even(out_h * TOP_SHARE)
        picture = (f"[0:v]split=2[a][b];"
                   f"[a]crop={cam.w}:{cam.h}:{cam.x}:{cam.y},scale={out_w}:{top_h},setsar=1[top];"
                   f"[b]crop={game.w}:{game.h}:{game.x}:{game.y},"
                   f"scale={out_w}:{out_h - top_h},setsar=1[low];"
                   f"[top][low]vstack=inputs=2[pic]")
    subs = f"ass={_quote(ass)}," if ass is not None else ""
    return f"{picture};[pic]{subs}format=yuv420p,split=2[v][thumb]"


def ffmpeg_args(source: Path, out: Path, thumb: Path, plan: Plan, out_w: int, out_h: int,
                ass: Path | None, commands: Path | None, has_audio: bool, thumb_at: float,
                encode: Encode = Encode()) -> list[str]:
    """The whole FFmpeg command for one short and its thumbnail."""
    graph = video_graph(plan, out_w, out_h, ass, commands)
    graph += f";[thumb]trim=start={max(0.0, thumb_at):.3f},setpts=PTS-STARTPTS[th]"
    if has_audio:
        graph += (f";[0:a]loudnorm=I={LOUDNESS_LUFS}:TP={TRUE_PEAK_DB}:LRA=11,"
                  "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo[a]")
    args = ["ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
            "-i", str(source), "-filter_complex", graph,
            "-map", "[v]", "-c:v", "libx264", "-preset", encode.preset,
            "-crf", str(encode.crf), "-pix_fmt", "yuv420p", "-threads", str(encode.threads)]
    if has_audio:
        args += ["-map", "[a]", "-c:a", "aac", "-b:a", f"{encode.audio_kbps}k", "-ar", "48000"]
    args += ["-movflags", "+faststart", str(out),
             "-map", "[th]", "-frames:v", "1", "-q:v", "3", "-update", "1", str(thumb)]
    return args
