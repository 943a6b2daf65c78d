"""Running FFmpeg, and feeding it bytes from streamlink.

- `FfmpegProcess` starts FFmpeg, lets us read its PCM output, keeps its last error lines,
  and stops it gently (SIGINT lets it finish the segment it is writing), or hard if it hangs.
- `StreamlinkPump` copies bytes from a streamlink reader into a pipe that FFmpeg reads as its
  standard input. streamlink's reader blocks, so the copying runs in its own thread.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import signal
import threading
import time
from typing import Protocol

log = logging.getLogger("clip_live.ingest.process")

READ_SIZE = 64 * 1024
STDERR_LINES = 20


class Reader(Protocol):
    """What we need from a streamlink stream reader."""

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


class FfmpegProcess:
    """One running FFmpeg."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.errors: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_task = asyncio.create_task(self._collect_stderr())
        self.stopping = False

    @classmethod
    async def start(cls, args: list[str], stdin_fd: int | None = None) -> FfmpegProcess:
        """Start FFmpeg. `stdin_fd` is a pipe to read input from (else no input on stdin).

        Raises OSError when the program cannot be started (for example, not installed)."""
        proc = await asyncio.create_subprocess_exec(
            *args,
            stdin=stdin_fd if stdin_fd is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=READ_SIZE * 4,
        )
        return cls(proc)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def read(self, timeout_s: float) -> bytes | None:
        """Up to 64 KB of PCM. b"" when FFmpeg closed its output; None when nothing came in
        `timeout_s` seconds."""
        assert self.proc.stdout is not None
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that lands just as the read finishes, and the channel task would never stop.
        try:
            async with asyncio.timeout(timeout_s):
                return await self.proc.stdout.read(READ_SIZE)
        except TimeoutError:
            return None

    def stop_soon(self) -> None:
        """Ask FFmpeg to finish: it closes the current segment and exits."""
        if self.proc.returncode is None and not self.stopping:
            self.stopping = True
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGINT)

    async def stop(self, grace_s: float = 5.0) -> int:
        """Stop FFmpeg and wait for it: gently first, killed after `grace_s`."""
        self.stop_soon()
        try:
            async with asyncio.timeout(grace_s):
                await self.proc.wait()
        except TimeoutError:
            log.warning("FFmpeg did not stop in %.0f s; killing it", grace_s,
                        extra={"pid": self.proc.pid})
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        return await self.wait()

    async def finish(self, grace_s: float = 5.0) -> int:
        """Wait for FFmpeg to exit by itself (its output has ended); kill it after `grace_s`."""
        try:
            async with asyncio.timeout(grace_s):
                await self.proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
        return await self.wait()

    async def wait(self) -> int:
        """Wait for FFmpeg to exit, and for its last error lines. Returns its exit code."""
        code = await self.proc.wait()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await asyncio.shield(self._stderr_task)
        return code

    async def _collect_stderr(self) -> None:
        assert self.proc.stderr is not None
        while True:
            raw = await self.proc.stderr.readline()
            if not raw:
                return
            line = raw.decode(errors="replace").rstrip()
            if line:
                self.errors.append(line)
                log.debug("ffmpeg: %s", line, extra={"pid": self.proc.pid})


class StreamlinkPump:
    """Copies a streamlink reader into a pipe, in a thread. FFmpeg reads the pipe's other end.

    Close it with `close()`: the reader is closed (in another thread, as that can take a while)
    and the copying stops.
    """

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.read_fd, self._write_fd = os.pipe()
        self.bytes_in = 0
        self.last_byte = time.monotonic()
        self.error: str = ""
        self._closed = threading.Event()
        self._reader_lock = threading.Lock()
        self._reader_open = True
        self._thread = threading.Thread(target=self._copy, name="streamlink-pump", daemon=True)

    def start(self) -> None:
        """Start copying. Call after FFmpeg has started (it holds its own copy of `read_fd`)."""
        os.close(self.read_fd)
        self._thread.start()

    def _copy(self) -> None:
        try:
            while not self._closed.is_set():
                data = self.reader.read(READ_SIZE)
                if not data:
                    return
                self.bytes_in += len(data)
                self.last_byte = time.monotonic()
                view = memoryview(data)
                while view:
                    written = os.write(self._write_fd, view)
                    view = view[written:]
        except OSError as err:  # FFmpeg went away (broken pipe) or streamlink timed out.
            if not self._closed.is_set():
                self.error = str(err) or type(err).__name__
        finally:
            with contextlib.suppress(OSError):
                os.close(self._write_fd)
            self._close_reader()

    def close(self) -> None:
        """Stop copying and close the streamlink reader (without waiting for it)."""
        if self._closed.is_set():
            return
        self._closed.set()
        if not self._thread.is_alive() and self._thread.ident is None:
            # Never started: close both ends ourselves.
            for fd in (self.read_fd, self._write_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
        threading.Thread(target=self._close_reader, name="streamlink-close", daemon=True).start()

    def _close_reader(self) -> None:
        with self._reader_lock:
            if not self._reader_open:
                return
            self._reader_open = False
        try:
            self.reader.close()
        except Exception as err:  # streamlink may complain while closing; nothing to do.
            log.debug("closing the streamlink reader: %s", err)
