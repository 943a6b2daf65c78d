"""`clip-live eval voice FOLDER`: how well the voice measures tell excited speech from calm.

Input (see README, "Measuring Clip Live"):

- FOLDER holds audio files (anything FFmpeg reads);
- a CSV (default FOLDER/arousal.csv) with lines `file,score` or `file,score,speaker`: the file
  name inside FOLDER, its arousal label from -1 (calm) to 1 (excited), and who speaks. A first
  line that is not a number (a header) is skipped.

Each file goes through exactly the live path: FFmpeg to 16 kHz mono PCM as ingest makes it,
0.5 s chunks through audio_features' own message code, seconds summed up by the fuser's audio
signal, z-scored by the fuser's channel normals, and the voice vote cast by the fuser's rules.

A stream has a history; a short clip has none. So each clip is scored against a baseline of
the same speaker's other clips (all clips, when the CSV names no speakers), heard first by
the channel normals, then the clip. With `--baseline calm` (the default) that is the
speaker's other calm clips: a live channel's normal is the streamer's usual, calm talk. With
`--baseline speaker` it is all the speaker's other clips, calm and excited. With
`--baseline file` each file is a channel of its own, heard from its start, as the live fuser
would (for long recordings; a clip shorter than the warm-up scores 0).

`--no-level` leaves the speech level out of the arousal, for files that were normalised in
loudness (then the level says nothing about the voice).

Labels above `split` (default 0) count as excited, below it as calm; labels equal to it are
left out of the yes/no scores.
"""

from __future__ import annotations

import csv
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from launcher.eval.command import BASELINES
from launcher.eval.metrics import auc, binary_scores, roc_points
from services.audio_features.service import features_message
from services.fuser import signals
from services.fuser.features import ChannelNormals, Summary, cast_votes
from services.fuser.rules import VoteRules
from services.fuser.signals import Values
from shared.contracts import AudioChunk, AudioFeatures

SAMPLE_RATE = 16_000
CHUNK_S = 0.5  # what ingest sends
LAST_CHUNK_MIN_S = 0.25  # a shorter tail of a file is left out, as too short to measure
LEVEL_PARTS = ("speech_z",)
"""The arousal parts that `--no-level` leaves out."""
SCORE = "voice_arousal"
"""The feature whose value, averaged over a clip's seconds, is the clip's score."""
REPORTED = ("voice_arousal", "loud_z", "pitch_var_z", "speech_z", "pitch_z", "pitch_range_z",
            "bright_z", "tilt_z", "onset_z")
"""Features whose AUC the report shows, each on its own (those the fuser makes)."""


class EvalError(Exception):
    """The data cannot be read. The message says why."""


@dataclass(frozen=True)
class Labelled:
    """One labelled audio file."""

    file: str
    score: float
    speaker: str = ""


@dataclass
class Scored:
    """One file after the live path: its seconds' features and votes."""

    item: Labelled
    seconds: list[Values] = field(default_factory=list)
    votes: list[bool] = field(default_factory=list)

    def mean(self, name: str) -> float | None:
        found = [s[name] for s in self.seconds if s.get(name) is not None]
        return sum(v for v in found if v is not None) / len(found) if found else None


def read_labels(path: Path) -> list[Labelled]:
    """Lines `file,score[,speaker]`; a header line is skipped. Raises EvalError."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise EvalError(f"cannot read the labels {path}: {err.strerror or err}") from None
    out: list[Labelled] = []
    for number, row in enumerate(csv.reader(text.splitlines()), 1):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        try:
            score = float(row[1])
        except (IndexError, ValueError):
            if number == 1 and not out:
                continue  # a header
            raise EvalError(f"{path}:{number}: expected `file,score[,speaker]`, got "
                            f"{','.join(row)!r}") from None
        out.append(Labelled(row[0].strip(), score, row[2].strip() if len(row) > 2 else ""))
    if not out:
        raise EvalError(f"{path}: no labelled files in it")
    return out


def decode(path: Path, ffmpeg: str = "ffmpeg") -> bytes:
    """The file's sound as ingest makes it: 16 kHz mono s16le PCM."""
    done = subprocess.run([ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-map", "0:a:0",
                           "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "pipe:1"],
                          capture_output=True, check=False)
    if done.returncode != 0:
        raise EvalError(f"FFmpeg cannot read {path}: {done.stderr.decode(errors='replace')[-300:]}")
    return done.stdout


def chunk_messages(pcm: bytes, channel: str = "eval") -> list[AudioFeatures]:
    """The audio_features messages of a recording, one per 0.5 s chunk, as the service makes
    them."""
    step = int(CHUNK_S * SAMPLE_RATE) * 2
    least = int(LAST_CHUNK_MIN_S * SAMPLE_RATE) * 2
    out = []
    for i, start in enumerate(range(0, len(pcm), step)):
        part = pcm[start:start + step]
        if len(part) < least:
            break
        samples = len(part) // 2
        chunk = AudioChunk(channel=channel, session="eval", t=i * CHUNK_S,
                           dur=samples / SAMPLE_RATE, wall=1.0 + i * CHUNK_S, samples=samples)
        out.append(features_message(chunk, part))
    return out


def seconds_of(messages: list[AudioFeatures]) -> list[Values]:
    """The fuser's raw numbers for each second, from the audio signal's own summary."""
    signal = signals.by_model(AudioFeatures)
    by_second: dict[int, list[AudioFeatures]] = defaultdict(list)
    for message in messages:
        by_second[int(message.t)].append(message)
    return [signal.summarize(by_second[t]) for t in sorted(by_second)]


def score_clip(item: Labelled, seconds: list[Values], baseline: list[Values], warmup: int,
               rules: VoteRules, leave_out: tuple[str, ...] = ()) -> Scored:
    """Hear the baseline, then the clip, through one channel's normals; cast each second's
    voice vote as the fuser does. Features in `leave_out` are blanked (None) and the
    features made from others (the arousal) are made again without them."""
    normals = ChannelNormals(warmup=warmup)
    for raw in baseline:
        normals.features(raw)
    scored = Scored(item)
    for raw in seconds:
        features = normals.features(raw)
        if leave_out:
            features.update(dict.fromkeys(leave_out))
            for feature in signals.features():
                if feature.combine is not None:
                    features[feature.name] = feature.combine(features)
        scored.seconds.append(features)
        scored.votes.append(cast_votes(Summary({"audio": raw}, ()), features, rules)["voice"])
    return scored


def evaluate(folder: Path, labels: Path, rules: VoteRules, warmup: int,
             baseline: str = "calm", split: float = 0.0, no_level: bool = False,
             ffmpeg: str = "ffmpeg") -> dict[str, Any]:
    """Run every labelled file through the live path and score the results."""
    if baseline not in BASELINES:
        raise EvalError(f"unknown baseline {baseline!r}: use one of {', '.join(BASELINES)}")
    items = read_labels(labels)
    raw: dict[str, list[Values]] = {}
    for item in items:
        path = folder / item.file
        if not path.is_file():
            raise EvalError(f"{labels} names {item.file}, which is not in {folder}")
        raw[item.file] = seconds_of(chunk_messages(decode(path, ffmpeg)))
    scored = []
    short = 0  # clips whose baseline holds fewer voiced seconds than the warm-up
    for item in items:
        others = [o for o in items if o.speaker == item.speaker and o.file != item.file
                  and (baseline == "speaker" or o.score < split)]
        before = [s for other in others for s in raw[other.file]] if baseline != "file" else []
        short += sum(1 for s in before if s.get("speech_db") is not None) < warmup
        scored.append(score_clip(item, raw[item.file], before, warmup, rules,
                                 LEVEL_PARTS if no_level else ()))
    found = summarise(scored, split, baseline, warmup)
    found["no_level"] = no_level
    found["short_baselines"] = short if baseline != "file" else None
    found["vote_line"] = rules.voice_arousal
    return found


def summarise(scored: list[Scored], split: float, baseline: str, warmup: int) -> dict[str, Any]:
    """The numbers of the report: AUC per feature, the vote's P/R/F1, and how often the vote
    fires on calm clips."""
    judged = [s for s in scored if s.item.score != split]
    excited = [s.item.score > split for s in judged]
    fired = [any(s.votes) for s in judged]
    calm = [f for f, e in zip(fired, excited, strict=True) if not e]
    hot = [f for f, e in zip(fired, excited, strict=True) if e]
    aucs = {}
    for name in REPORTED:
        pairs = [(e, s.mean(name)) for e, s in zip(excited, judged, strict=True)]
        kept = [(e, v) for e, v in pairs if v is not None]
        aucs[name] = auc([e for e, _ in kept], [v for _, v in kept]) if kept else None
    pairs = [(e, s.mean(SCORE)) for e, s in zip(excited, judged, strict=True)]
    kept = [(e, v) for e, v in pairs if v is not None]
    return {
        "kind": "voice", "baseline": baseline, "warmup_s": warmup, "split": split,
        "clips": len(scored), "excited": sum(excited), "calm": len(excited) - sum(excited),
        "clips_without_voice": sum(1 for s in scored if s.mean(SCORE) is None),
        "arousal_auc": aucs.get(SCORE),
        "vote_on_calm_share": round(sum(calm) / len(calm), 4) if calm else None,
        "vote_on_excited_share": round(sum(hot) / len(hot), 4) if hot else None,
        "vote": binary_scores(excited, fired),
        "auc_by_feature": aucs,
        "roc": roc_points([e for e, _ in kept], [v for _, v in kept]),
        "files": [{"file": s.item.file, "label": s.item.score, "speaker": s.item.speaker,
                   "arousal": _round(s.mean(SCORE)), "vote": any(s.votes),
                   "seconds": len(s.seconds), "voted_seconds": sum(s.votes),
                   **{name: _round(s.mean(name)) for name in REPORTED if name != SCORE}}
                  for s in scored],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
