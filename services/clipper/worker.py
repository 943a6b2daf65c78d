"""clipper's wiring: clip jobs in; progress and clips out. Copies share the jobs. It looks at
segments, captions and audio (without a group) to cut each clip and write its subtitles, and
at face frames when it makes shorts of new clips (setting `export_new_clips`)."""

from shared.streams import (
    AUDIO,
    CAPTIONS,
    CLIP_PROGRESS,
    CLIP_REQUESTS,
    CLIPS,
    FACE_FRAMES,
    SEGMENTS,
)
from shared.workers import Worker

WORKER = Worker("clipper", reads=(CLIP_REQUESTS,), writes=(CLIP_PROGRESS, CLIPS),
                shape="group", looks=(SEGMENTS, CAPTIONS, AUDIO, FACE_FRAMES))
