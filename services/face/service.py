"""The face worker: the streamer's face and its emotion, per frame and per second.

For each sampled frame it publishes a `FaceFrame` (every face with its box and emotions) on
FACE_FRAMES, and for each second of stream time a `FaceSecond` (face present, mean emotions,
dominant emotion, excitement) on FACE.

Design: stateful, one owner per channel. A second's summary needs all of that second's frames,
so a channel's frames must reach one worker. The worker owns channels through leases
(`ctx.own_channels`; ended channels too, so frames they left behind are handled) and reads
each owned channel's FRAMES stream with the consumer group "face" (see `worker.py`).
Seconds are held in memory until closed (see `aggregate.py`): as soon as the segments whose
frames are all in cover them, else when a frame `face_lateness_s` past a second's end arrives,
or after `face_idle_close_s` without frames. Frames are
acknowledged once handled; a worker that dies takes its open seconds with it, so a new owner
first rebuilds them from FACE_FRAMES (what was found in every frame handled after the last
second published), then goes on. A frame handed out again after that (handled, not yet
acknowledged) is known by its time and not counted twice.

With `face_camera` set, the worker reads that local camera at 2 fps for `face_camera_channel`
instead, and reads no FRAMES stream. A camera that cannot be opened is logged and tried again.

All picture work runs on one thread of its own: the models are not thread-safe, and it keeps
the event loop free.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from concurrent.futures import ThreadPoolExecutor

import cv2

from services.face.aggregate import FrameFaces, SecondBuffer, SecondSummary
from services.face.analyse import FoundFace, FrameError, Picture, analyse_picture, decode_jpeg
from services.face.backends import EmotionModel, choose_model
from services.face.camera import CAMERA_FPS, CameraClock, CameraError, open_camera, read_frame
from shared.bus import REDIS_DOWN, Delivery
from shared.channels import all_states
from shared.contracts import FaceBox, FaceFrame, FaceSecond, Frame
from shared.runtime import ServiceContext
from shared.streams import FACE, FACE_FRAMES, JPEG
from shared.timing import sleep_unless

CAMERA_RETRY_S = 5.0  # wait before opening a camera again after it failed
REBUILD_MAX_FRAMES = 120  # frames read back on take-over: a minute at 2 fps


class FaceWorker:
    """The models, the thread they run on, and publishing."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face")
        self.model: EmotionModel | None = None

    async def start(self) -> None:
        cv2.setNumThreads(1)  # one core for OpenCV: the machine is shared with other workers
        self.model = await asyncio.get_running_loop().run_in_executor(
            self.pool, choose_model, self.ctx.settings.face_backend)

    def _analyse(self, picture: Picture | bytes) -> list[FoundFace]:
        assert self.model is not None
        bgr = decode_jpeg(picture) if isinstance(picture, bytes) else picture
        return analyse_picture(bgr, self.model)

    async def analyse(self, picture: Picture | bytes) -> list[FoundFace]:
        """Faces in a JPEG or a picture, on the model thread. Raises FrameError."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._analyse,
                                                                picture)

    async def publish_frame(self, channel: str, session: str, t: float, wall: float,
                            faces: list[FoundFace]) -> None:
        boxes = [FaceBox(x=f.box.x, y=f.box.y, w=f.box.w, h=f.box.h, emotions=f.emotions,
                         dominant=f.dominant) for f in faces]
        await self.ctx.bus.publish(FACE_FRAMES, FaceFrame(
            channel=channel, session=session, t=t, dur=0.0, wall=wall, faces=boxes),
            channel=channel)

    async def publish_seconds(self, channel: str, done: list[SecondSummary]) -> None:
        if done:
            await self.ctx.bus.publish_many(FACE, [(FaceSecond(
                channel=channel, session=s.session, t=s.t, dur=1.0, wall=s.wall,
                present=s.present, emotions=s.emotions, dominant=s.dominant,
                excitement=s.excitement), None) for s in done], channel=channel)

    async def run_channel(self, channel: str) -> None:
        """Follow one owned channel's frames until stopped or the lease is lost."""
        buffer = SecondBuffer(lateness_s=self.ctx.settings.face_lateness_s)
        last_frame = time.monotonic()
        rebuilt = await self.rebuild(channel, buffer)

        async def handle(delivery: Delivery[Frame]) -> None:
            nonlocal last_frame
            frame = delivery.message
            last_frame = time.monotonic()
            if (frame.session, frame.t) in rebuilt:
                return  # the last owner handled it and died before acknowledging it
            try:
                faces = await self.analyse(delivery.blobs[JPEG])
            except FrameError as err:
                self.ctx.log.warning("skipped a frame: %s", err,
                                     extra={"channel": channel, "t": frame.t})
                return
            await self.publish_frame(channel, frame.session, frame.t, frame.wall, faces)
            main_face = faces[0].emotions if faces else None
            dropped = buffer.dropped
            batch = (None if frame.batch_end is None
                     else (frame.batch_start or frame.t, frame.batch_end))
            done = buffer.add(FrameFaces(frame.session, frame.t, frame.wall, main_face), batch)
            if buffer.dropped > dropped:
                self.ctx.log.warning("a frame came after its second was closed; not counted "
                                     "(raise face_lateness_s?)",
                                     extra={"channel": channel, "t": frame.t})
            await self.publish_seconds(channel, done)

        async def close_idle() -> None:
            idle = self.ctx.settings.face_idle_close_s
            while not self.ctx.stop.is_set():
                await sleep_unless(self.ctx.stop, min(0.5, idle / 2))
                if buffer.has_open and time.monotonic() - last_frame >= idle:
                    await self.publish_seconds(channel, buffer.close_all())

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(close_idle())
                group.create_task(self.ctx.consume_channel(channel, handle))
        finally:
            # Stopping (or the channel moved on): the seconds still open go out with the
            # frames they have, so none is lost.
            if buffer.has_open:
                with contextlib.suppress(*REDIS_DOWN):
                    await self.publish_seconds(channel, buffer.close_all())

    async def rebuild(self, channel: str, buffer: SecondBuffer) -> set[tuple[str, float]]:
        """Put back into `buffer` the open seconds a last owner held when it stopped: the
        frames it handled (FACE_FRAMES) after the last second it published (FACE). Returns the
        (session, t) of every frame read back, so that frames handed out again are skipped."""
        bus = self.ctx.bus
        last = await bus.latest(FACE, channel=channel)
        session = ""

        def not_summarised(found: FaceFrame) -> bool:
            nonlocal session
            session = session or found.session
            if found.session != session:
                return False
            return last is None or last.message.session != session or found.t >= last.message.t
        back = await bus.read_back(FACE_FRAMES, channel=channel, count=REBUILD_MAX_FRAMES,
                                   keep=not_summarised)
        frames = [FrameFaces(d.message.session, d.message.t, d.message.wall,
                             d.message.faces[0].emotions if d.message.faces else None)
                  for d in reversed(back)]
        closed = (math.floor(last.message.t) + 1
                  if last is not None and last.message.session == session else 0)
        buffer.restore(frames, closed)
        if buffer.has_open:
            self.ctx.log.info("took back %d frame(s) of seconds the last owner held open",
                              len(frames), extra={"channel": channel})
        return {(f.session, f.t) for f in frames}

    async def run_camera(self, device: str, channel: str) -> None:
        """Read the local camera at CAMERA_FPS until stopped; reopen it when it fails."""
        while not self.ctx.stop.is_set():
            try:
                capture = await asyncio.to_thread(open_camera, device)
            except CameraError as err:
                self.ctx.log.error("%s; trying again in %.0f s", err, CAMERA_RETRY_S,
                                   extra={"channel": channel})
                await sleep_unless(self.ctx.stop, CAMERA_RETRY_S)
                continue
            self.ctx.log.info("reading camera %s", device, extra={"channel": channel})
            try:
                await self._camera_frames(capture, device, channel)
            except CameraError as err:
                self.ctx.log.error("%s; trying again in %.0f s", err, CAMERA_RETRY_S,
                                   extra={"channel": channel})
                await sleep_unless(self.ctx.stop, CAMERA_RETRY_S)
            finally:
                capture.release()

    async def _camera_frames(self, capture: cv2.VideoCapture, device: str, channel: str) -> None:
        clock = await self._camera_clock(channel)
        buffer = SecondBuffer(lateness_s=0.0)  # one reader, frames in order
        try:
            while not self.ctx.stop.is_set():
                tick = time.monotonic()
                picture = await asyncio.to_thread(read_frame, capture, device)
                wall = time.time()
                t = clock.t(wall)
                try:
                    faces = await self.analyse(picture)
                except FrameError as err:
                    self.ctx.log.warning("skipped a camera frame: %s", err,
                                         extra={"channel": channel})
                    faces = []
                await self.publish_frame(channel, clock.session, t, wall, faces)
                main_face = faces[0].emotions if faces else None
                await self.publish_seconds(channel, buffer.add(
                    FrameFaces(clock.session, t, wall, main_face)))
                await sleep_unless(self.ctx.stop, 1 / CAMERA_FPS - (time.monotonic() - tick))
        finally:
            await self.publish_seconds(channel, buffer.close_all())

    async def _camera_clock(self, channel: str) -> CameraClock:
        state = (await all_states(self.ctx.bus.redis)).get(channel)
        now = time.time()
        if state is not None:
            return CameraClock(state.session, state.t, state.wall)
        return CameraClock(f"camera-{int(now)}", 0.0, now)


async def main(ctx: ServiceContext) -> None:
    worker = FaceWorker(ctx)
    await worker.start()
    try:
        if ctx.settings.face_camera:
            await worker.run_camera(ctx.settings.face_camera, ctx.settings.face_camera_channel)
            return
        await ctx.own_channels(worker.run_channel)
    finally:
        worker.pool.shutdown(wait=False, cancel_futures=True)
