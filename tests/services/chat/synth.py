"""Synthetic chat logs for the chat tests, and writers for both offline formats."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.services.chat.irc_server import Line

CALM = ["hi chat", "what game is this", "lol", "gg", "nice", "how long is the stream",
        "o7", "is this a rerun?", "good morning", "brb"]
HYPE = ["PogChamp", "KEKW", "W", "LETS GOOOO", "POGGERS POGGERS", "OMEGALUL", "no way!!!",
        "CLIP IT", "Pog", "LUL LUL LUL"]


def history(end: float, seconds: float = 120.0, every: float = 5.0) -> list[Line]:
    """`seconds` of calm chat up to `end`: one message every `every` seconds, some with emotes,
    a /me action, and tag values that need escaping."""
    lines: list[Line] = []
    n = int(seconds / every)
    for i in range(n):
        ts = end - seconds + i * every
        user = f"viewer{i % 7}"
        if i % 6 == 3:
            lines.append(Line(ts, user, "Kappa hello Kappa", emotes="25:0-4,12-16"))
        elif i % 6 == 5:
            lines.append(Line(ts, user, "waves", action=True))
        else:
            lines.append(Line(ts, user, CALM[i % len(CALM)],
                              tags={"client-nonce": "a b;c\\d"}))
    return lines


def burst(start: float, n: int = 30, over: float = 2.0, prefix: str = "fan") -> list[Line]:
    """`n` hyped messages from `n` people in `over` seconds."""
    return [Line(start + over * i / n, f"{prefix}{i}", HYPE[i % len(HYPE)]) for i in range(n)]


WORDS = (
    "the", "a", "what", "is", "this", "game", "why", "so", "good", "bad", "play", "map",
    "level", "boss", "run", "again", "now", "later", "today", "stream", "music", "sound",
    "chat", "team", "win", "lose", "score", "round", "fight", "item", "build", "gold", "shop",
    "time", "slow", "fast", "left", "right", "top", "mid", "jungle", "support", "base",
    "tower", "dragon", "baron", "nice", "ok", "hmm", "well", "yes", "no", "maybe", "sure",
    "wait", "look", "there", "here", "friend",
)


def chatter(rng: random.Random) -> str:
    """A varied message that nobody else is likely to type too."""
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 6)))


def steady(start: float, seconds: float, rate: float, seed: int = 1,
           users: int = 300) -> list[Line]:
    """Varied chat at `rate` messages a second (Poisson), from `users` people."""
    rng = random.Random(seed)
    lines: list[Line] = []
    t = start
    while True:
        t += rng.expovariate(rate)
        if t >= start + seconds:
            return lines
        lines.append(Line(t, f"viewer{rng.randrange(users)}", chatter(rng)))


def wall(start: float, seconds: float, n: int, text: str, prefix: str = "fan") -> list[Line]:
    """`n` people typing the same `text` over `seconds` (an emote wall, "7777", a copy-paste)."""
    return [Line(start + seconds * i / n, f"{prefix}{i}", text) for i in range(n)]


def varied(start: float, seconds: float, n: int, seed: int = 2,
           prefix: str = "talker") -> list[Line]:
    """`n` people each typing something different over `seconds`."""
    rng = random.Random(seed)
    return [Line(start + seconds * i / n, f"{prefix}{i}", chatter(rng)) for i in range(n)]


def long_log(seed: int, minutes: int, bursts: list[float], raids: list[float],
             clusters: list[float], start: float = 1_700_000_000.0) -> list[Line]:
    """A long log: calm chat about every 2 s (random), a burst of 40 hyped messages in 10 s at
    each time in `bursts`, a raid plus such a burst at each time in `raids`, five quick messages
    in 2 s at each time in `clusters`. Times are seconds from `start`."""
    rng = random.Random(seed)
    lines: list[Line] = []
    t = 0.0
    while t < minutes * 60:
        t += rng.expovariate(0.5)
        lines.append(Line(start + t, f"calm{rng.randrange(40)}", rng.choice(CALM)))
    for b in bursts:
        lines.extend(burst(start + b, n=40, over=10.0))
    for r in raids:
        lines.append(Line(start + r, "raider", notice="raid"))
        lines.extend(burst(start + r + 1.0, n=40, over=10.0, prefix="raidfan"))
    for c in clusters:
        lines.extend(Line(start + c + 0.4 * i, f"quick{i}", "hey") for i in range(5))
    return sorted(lines, key=lambda x: x.ts)


def write_plain(lines: list[Line], path: Path) -> None:
    """The chat service's own format: `<unix time> <user>: <message>`."""
    with path.open("w") as f:
        for x in lines:
            if x.notice:
                f.write(f"{x.ts:.3f} * {x.notice} {x.user}\n")
            else:
                f.write(f"{x.ts:.3f} {x.user}: {x.text}\n")


def write_json(lines: list[Line], path: Path, start: float) -> None:
    """A TwitchDownloader-style export: times are seconds into the video (from `start`)."""
    comments = []
    for i, x in enumerate(lines):
        message: dict[str, object] = {"body": x.text, "bits_spent": 0, "fragments": [
            {"text": x.text, "emoticon": None}], "user_badges": [], "user_color": "#FF0000",
            "emoticons": []}
        if x.notice:
            message["body"] = f"{x.user} is raiding with a party of 120."
            message["user_notice_params"] = {"msg_id": x.notice}
        comments.append({
            "_id": f"c{i}", "created_at": "2024-01-01T00:00:00Z", "channel_id": "1",
            "content_type": "video", "content_id": "123",
            "content_offset_seconds": round(x.ts - start, 3),
            "commenter": {"display_name": x.user.capitalize(), "_id": str(i), "name": x.user},
            "message": message,
        })
    data = {"FileInfo": {"Version": {"Major": 1}}, "streamer": {"name": "someone", "id": 1},
            "video": {"title": "a stream", "id": "123", "start": 0, "end": 0},
            "comments": comments}
    path.write_text(json.dumps(data))
