"""The motion worker: the one place video is decoded.

For every finished segment it publishes motion per second and about two frames per second for
the face worker. A segment that cannot be read becomes a logged error and a gap, not a crash.
Stateless: replicas share the segments through one consumer group.
"""

from __future__ import annotations

import asyncio

from services.motion.vectors import SegmentAnalysis, SegmentError, analyse_segment
from shared.bus import Delivery
from shared.contracts import Frame, Gap, Motion, Segment
from shared.runtime import ServiceContext
from shared.streams import FRAMES, GAPS, JPEG, MOTION


def motion_messages(segment: Segment, found: SegmentAnalysis) -> list[Motion]:
    """One message per second of the segment, stamped on the stream clock."""
    end = segment.t + segment.dur
    return [
        Motion(channel=segment.channel, session=segment.session, t=s.t,
               dur=max(0.0, min(1.0, end - s.t)), wall=segment.wall + (s.t - segment.t),
               motion_avg=s.motion_avg, motion_max=s.motion_max, scene_cut=s.scene_cut,
               frames=s.frames)
        for s in found.seconds
    ]


def frame_messages(
    segment: Segment, found: SegmentAnalysis
) -> list[tuple[Frame, dict[str, bytes]]]:
    """The sampled frames, each with its JPEG as a binary part. The last one says which
    stream time the segment covered, so the face worker can close those seconds at once."""
    last = len(found.frames) - 1
    return [
        (Frame(channel=segment.channel, session=segment.session, t=f.t, dur=0.0,
               wall=segment.wall + (f.t - segment.t), width=f.width, height=f.height,
               batch_start=segment.t if i == last else None,
               batch_end=segment.t + segment.dur if i == last else None),
         {JPEG: f.jpeg})
        for i, f in enumerate(found.frames)
    ]


async def main(ctx: ServiceContext) -> None:
    async def handle(delivery: Delivery[Segment]) -> None:
        segment = delivery.message
        try:
            found = await asyncio.to_thread(analyse_segment, segment.path, segment.t)
        except (SegmentError, OSError) as err:
            ctx.log.error("skipped a segment that cannot be decoded: %s", err,
                          extra={"channel": segment.channel, "path": segment.path})
            await ctx.bus.publish(GAPS, Gap(
                channel=segment.channel, session=segment.session, t=segment.t, dur=segment.dur,
                wall=segment.wall, reason=f"motion: segment {segment.seq} unreadable: {err}"),
                channel=segment.channel)
            return
        await ctx.bus.publish_many(MOTION, [(m, None) for m in motion_messages(segment, found)],
                                   channel=segment.channel)
        frames = frame_messages(segment, found)
        if frames:
            await ctx.bus.publish_many(FRAMES, frames, channel=segment.channel)

    await ctx.consume(handle)
