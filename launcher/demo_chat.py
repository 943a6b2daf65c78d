"""The demo's chat: a tiny IRC server on 127.0.0.1 that talks like Twitch chat.

It plays the demo chat script (`<media seconds> <user>: <message>` lines) in step with the demo
stream, which loops: a line for media time `m` of loop `k` goes out at
`start + k * length + m + delay`, where `delay` is how far behind live a viewer watches.

    python -m launcher.demo_chat --port P --channel demo --script chat.txt --start UNIX_TIME \
        --length 180

Only the demo channel has chat: a client that joins another channel hears nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from pathlib import Path

PLAYER_DELAY_S = 4.0
"""A viewer (and our ingest) sees the live stream about this far behind its making."""


def read_script(path: Path) -> list[tuple[float, str, str]]:
    """(media seconds, user, message) for each line of the chat script."""
    lines = []
    for raw in path.read_text().splitlines():
        stamp, _, rest = raw.partition(" ")
        user, _, text = rest.partition(": ")
        if stamp and user and text:
            lines.append((float(stamp), user, text))
    return lines


class DemoChat:
    """Serves the script to every client that joins a channel."""

    def __init__(self, channel: str, script: list[tuple[float, str, str]], start: float,
                 length: float, delay: float = PLAYER_DELAY_S) -> None:
        self.channel = channel
        self.script = sorted(script)
        self.start = start
        self.length = length
        self.delay = delay

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        replay: asyncio.Task[None] | None = None
        nick = "justinfan"
        try:
            while line := (await reader.readline()).decode(errors="replace").strip():
                word, _, rest = line.partition(" ")
                if word == "PING":
                    writer.write(f":tmi.twitch.tv PONG tmi.twitch.tv {rest}\r\n".encode())
                elif word == "CAP":
                    writer.write(f":tmi.twitch.tv CAP * ACK {rest.partition(':')[2]}\r\n"
                                 .encode())
                elif word == "NICK":
                    nick = rest
                    writer.write(f":tmi.twitch.tv 001 {nick} :Welcome, GLHF!\r\n".encode())
                elif word == "JOIN":  # Twitch says the join back; clients wait for that.
                    writer.write(f":{nick}!{nick}@{nick}.tmi.twitch.tv JOIN {rest}\r\n".encode())
                    if replay is None and rest.lstrip("#") == self.channel:
                        replay = asyncio.create_task(self._replay(writer, rest.lstrip("#")))
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if replay:
                replay.cancel()
            writer.close()

    async def _replay(self, writer: asyncio.StreamWriter, channel: str) -> None:
        loop = max(0, int((time.time() - self.start - self.delay) // self.length))
        while True:
            for media_t, user, text in self.script:
                due = self.start + loop * self.length + media_t + self.delay
                if due < time.time() - 1:
                    continue  # Chat from before we joined.
                await asyncio.sleep(max(0.0, due - time.time()))
                tags = f"@display-name={user};tmi-sent-ts={int(due * 1000)};user-type="
                writer.write(f"{tags} :{user}!{user}@{user}.tmi.twitch.tv PRIVMSG #{channel} "
                             f":{text}\r\n".encode())
                await writer.drain()
            loop += 1


async def main(port: int, channel: str, script: Path, start: float, length: float) -> None:
    chat = DemoChat(channel, read_script(script), start, length)
    server = await asyncio.start_server(chat.serve, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--channel", required=True)
    parser.add_argument("--script", type=Path, required=True)
    parser.add_argument("--start", type=float, required=True)
    parser.add_argument("--length", type=float, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main(args.port, args.channel, args.script, args.start, args.length))
