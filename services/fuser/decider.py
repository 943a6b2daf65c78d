"""The brain of one channel: signals in; event rows, spikes and clip jobs out.

Pure: no Redis, no asyncio. The service feeds it messages and publishes what `step` returns.

Each closed second gets features, the model's probability and the 2-of-3 votes. Some signals
react late (chat: viewers see the stream seconds behind, then type), so a chat spike at chat
time `tc` votes for the seconds it names (its estimated moment, see `signals/chat.py`; else
`[tc - chat_delay, tc]`), and a chat spike that arrives after those seconds closed can still
complete a 2-of-3 vote for them. A clip that such a late vote leads starts early enough to
hold those seconds (a longer pre-roll, as far as the recording on disk still reaches).
"""

from __future__ import annotations

import hashlib
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from services.fuser import signals
from services.fuser.buckets import Bucketer, Second, Signal
from services.fuser.features import ChannelNormals, cast_votes, summarize
from services.fuser.model import CONTEXT_S, LoadedModel
from services.fuser.rules import ClipPlanner, InARow, Trigger, VoteRules, two_of_three
from services.fuser.signals import FuserSignal
from shared.contracts import ClipRequest, ClipWhy, EventRow, ModelTag, Spike, Stamped

HISTORY_S = 120
BUFFER_MARGIN_S = 10.0
"""A pre-roll never reaches closer than this to the oldest recording still on disk."""


@dataclass(frozen=True)
class FuserConfig:
    """The knobs of the decision (from settings)."""

    threshold: float = 0.8
    seconds_in_a_row: int = 2
    lateness: float = 4.0
    settle: float = 1.0
    chat_delay: float = 10.0
    pre: float = 10.0
    post: float = 20.0
    cooldown: float = 30.0
    warmup: int = 20
    buffer_s: float = 180.0
    """How much recording ingest keeps on disk (`retention_s`): a pre-roll reaches no further."""
    votes: VoteRules = field(default_factory=VoteRules)


@dataclass
class Outputs:
    """What one step decided."""

    rows: list[EventRow] = field(default_factory=list)
    spikes: list[Spike] = field(default_factory=list)
    jobs: list[ClipRequest] = field(default_factory=list)

    def extend(self, other: Outputs) -> None:
        self.rows += other.rows
        self.spikes += other.spikes
        self.jobs += other.jobs


@dataclass
class Closed:
    """What we remember of a closed second, for late chat votes."""

    t: int
    session: str
    wall: float
    probability: float
    votes: dict[str, bool]
    contributions: dict[str, float]
    model: ModelTag | None = None  # the model that judged it


def job_id_for(channel: str, session: str, t: float) -> str:
    """The clip job's id for second `t`: the same second always gets the same id, so a fuser
    that takes a channel over and decides that second again asks for a job the clipper has
    already done (it skips it), never a second clip."""
    return hashlib.sha1(f"{channel}|{session}|{t:.3f}".encode()).hexdigest()[:12]


class Decider:
    """Decides for one channel."""

    def __init__(self, channel: str, config: FuserConfig, model: LoadedModel,
                 new_job_id: Callable[[str, float], str], now: Callable[[], float]) -> None:
        """`new_job_id(session, t)` names the clip job for second `t` of `session`."""
        self.channel = channel
        self.config = config
        self.model = model
        self.new_job_id = new_job_id
        self.now = now
        self.buckets = Bucketer(config.lateness, config.settle)
        self.normals = ChannelNormals(warmup=config.warmup)
        self.in_a_row = InARow(config.seconds_in_a_row)
        self.planner = ClipPlanner(config.pre, config.post, config.cooldown)
        self.reacting: dict[str, dict[int, Stamped]] = {}  # late signals' seconds, by name
        self.unjudged: list[tuple[FuserSignal, Stamped]] = []  # late votes still to place
        self.history: deque[Closed] = deque(maxlen=HISTORY_S)
        self.recent: deque[dict[str, float | None]] = deque(maxlen=CONTEXT_S)  # for the model
        self.held: deque[EventRow] = deque()
        self.flag_next_row = False
        self.last_wall = 0.0
        self.session = ""
        self.quiet_until = 0  # Seconds before this were decided before a take-over: no outputs.
        self.rows_from = 0  # Rows before this second were written before a take-over.
        self._closing = -1  # The second being closed now.

    def add(self, message: Signal) -> None:
        """Take in one signal message (in any order, duplicates allowed)."""
        self.session = message.session or self.session
        late_before = self.buckets.late_messages
        self.buckets.add(message)
        signal = signals.by_model(type(message))
        if self.buckets.late_messages > late_before and self._votes_alone(signal, message):
            # It came after its seconds closed (words come once their phrase is final): its
            # vote still counts, as a chat spike's does, for the seconds it covers.
            self.unjudged.append((signal, message))
        if signal.reacts_later:
            t = int(message.t)
            seen = self.reacting.setdefault(signal.name, {})
            known = seen.get(t)
            seen[t] = message
            votes = signal.late_vote
            if votes and votes(message) and not (known and votes(known)):
                self.unjudged.append((signal, message))
            for old in [k for k in seen if k < t - HISTORY_S]:
                del seen[old]

    def step(self) -> Outputs:
        """Close the seconds that are done, and judge late chat spikes."""
        return self._decide(self.buckets.ready())

    def replay(self, closed_until: int, rows_from: int) -> None:
        """Rebuild after a take-over: the fuser before us closed every second before
        `closed_until` and wrote the rows before `rows_from`. Fed the same messages again,
        this decider learns the channel's normals, cooldown and runs as they were, and gives
        out only what the other one had not: no second and no clip twice."""
        self.quiet_until = closed_until
        self.rows_from = rows_from

    @property
    def closed_until(self) -> int:
        """The first second not closed yet."""
        return self.buckets.closed_until

    @property
    def written_until(self) -> int:
        """The first second whose row has not been given out yet."""
        return int(self.held[0].t) if self.held else self.closed_until

    def finish(self) -> Outputs:
        """The stream ended (or we stop owning it): close everything still open."""
        return self._decide(self.buckets.flush(), final=True)

    def _decide(self, seconds: list[Second], final: bool = False) -> Outputs:
        out = Outputs()
        for second in seconds:
            self._closing = second.t
            self._close(second, out)
        self._closing = self.history[-1].t if self.history else -1
        self._judge_late_votes(out)
        # A row that could be the first of the model's "in a row" waits until that is decided,
        # so that the clip flag lands on the second the clip is for. Other rows go at once.
        keep = 0 if final else self.config.seconds_in_a_row - 1
        while self.held and (len(self.held) > keep or not self._may_start_a_run(self.held[0])):
            row = self.held.popleft()
            if row.t >= self.rows_from:
                out.rows.append(row)
        return out

    # ---- One second --------------------------------------------------------------------------

    def _close(self, second: Second, out: Outputs) -> None:
        wall = second.wall or (self.last_wall + 1.0 if self.last_wall else self.now())
        self.last_wall = wall
        summary = summarize(second, self._windows(second.t), set(self.reacting))
        raw = summary.raw
        features = self.normals.features(raw)
        probability = self.model.probability(features, self.recent)
        contributions = self.model.contributions(features, self.recent)
        self.recent.append(features)
        votes = cast_votes(summary, features, self.config.votes)
        missing = list(summary.missing) + (["gap"] if raw.get("gap") else [])
        closed = Closed(second.t, second.session or self.session, wall, probability, votes,
                        contributions, self.model.tag)
        self.history.append(closed)
        self.held.append(EventRow(
            channel=self.channel, session=closed.session, t=float(second.t), dur=1.0, wall=wall,
            loud_db=_round(raw.get("loud_db")), pitch_var=_round(raw.get("pitch_var")),
            motion_avg=_round(raw.get("motion_avg")), sentiment=_round(raw.get("sentiment")),
            excited_prob=round(probability, 4), clip_flag=self._take_flag(),
            features={k: _round(v) for k, v in features.items()}, missing=missing, votes=votes,
        ))
        first = self.in_a_row.update(second.t, probability >= self.config.threshold)
        if first is not None:
            start = next((c for c in self.history if c.t == first), closed)
            self._trigger(start, "model", out)
        rule = two_of_three(votes)
        if rule is not None:
            self._trigger(closed, rule, out)

    def _windows(self, t: int) -> dict[str, list[Stamped]]:
        """For each signal that reacts later, its seconds that came after stream second `t`
        within the chat delay."""
        delay = self.config.chat_delay
        return {name: [m for k, m in seen.items() if t <= k <= t + delay]
                for name, seen in self.reacting.items()}

    def _judge_late_votes(self, out: Outputs) -> None:
        """A late vote (a chat spike) votes for the recent seconds it reacts to. If one of them
        already had another vote, that makes two (or three) votes: a clip. A late vote waits
        until the seconds it votes for have closed."""
        newest = self.history[-1].t if self.history else None
        waiting = []
        for signal, message in self.unjudged:
            if newest is None or newest < int(message.t) or signal.vote is None:
                waiting.append((signal, message))
                continue
            first, last = self._late_window(signal, message)
            reacted_to = [c for c in reversed(self.history) if first <= c.t <= last]
            for closed in reacted_to:
                if closed.votes.get(signal.vote):
                    break  # That second counted this vote when it closed.
                closed.votes[signal.vote] = True
                rule = two_of_three(closed.votes)
                if rule is not None:
                    self._trigger(closed, rule, out, reach_back=first)
                    break
        self.unjudged = waiting

    def _late_window(self, signal: FuserSignal, message: Stamped) -> tuple[float, float]:
        """The stream seconds a late vote speaks for: those its message names, else the
        seconds it covers (a signal that came late), else the chat delay before it."""
        named = signal.late_window(message) if signal.late_window else None
        if named is not None:
            return math.floor(named[0]), named[1]
        if not signal.reacts_later:
            return math.floor(message.t), message.t + max(message.dur, 1e-6) - 1e-6
        return message.t - self.config.chat_delay, message.t

    def _votes_alone(self, signal: FuserSignal, message: Stamped) -> bool:
        """True when a message of a signal judged per second (not one that reacts later)
        casts its vote by itself, with no z-scores."""
        if signal.reacts_later or signal.vote is None or signal.votes is None:
            return False
        return signal.votes(signal.summarize([message]), {}, self.config.votes)

    def _pre_roll(self, t: float, reach_back: float | None) -> float:
        """The clip's pre-roll: the setting, or longer so the clip starts at `reach_back`,
        but never past the recording that is still on disk."""
        pre = self.config.pre
        if reach_back is None or not self.history:
            return pre
        oldest = self.history[-1].t - self.config.buffer_s + BUFFER_MARGIN_S
        return max(pre, min(t - reach_back, t - oldest))

    def _trigger(self, closed: Closed, trigger: Trigger, out: Outputs,
                 reach_back: float | None = None) -> None:
        accepted = self.planner.accept(float(closed.t), trigger)
        job_id = self.new_job_id(closed.session, float(closed.t)) if accepted else ""
        spike = Spike(
            channel=self.channel, session=closed.session, t=float(closed.t), dur=1.0,
            wall=closed.wall, probability=round(closed.probability, 4),
            contributions=closed.contributions, votes=dict(closed.votes), trigger=trigger,
            job_id=job_id, model=closed.model,
        )
        quiet = self._closing < self.quiet_until  # Given out already, before a take-over.
        if not quiet:
            out.spikes.append(spike)
        if accepted:
            self._flag(closed.t)
        if accepted and not quiet:
            out.jobs.append(ClipRequest(
                channel=self.channel, job_id=job_id, session=closed.session, t=float(closed.t),
                pre=self._pre_roll(closed.t, reach_back), post=self.config.post, reason=trigger,
                wall=self.now(),
                why=why_of(spike),
            ))

    def _may_start_a_run(self, row: EventRow) -> bool:
        return row.excited_prob >= self.config.threshold - 1e-4  # The row's P is rounded.

    def _flag(self, t: int) -> None:
        """Flag the row of second `t`; if it is already out, flag the next one."""
        for i, row in enumerate(self.held):
            if row.t == t:
                self.held[i] = row.model_copy(update={"clip_flag": True})
                return
        self.flag_next_row = True

    def _take_flag(self) -> bool:
        flag, self.flag_next_row = self.flag_next_row, False
        return flag


def why_of(spike: Spike) -> ClipWhy:
    """The reasons a spike gives, to travel with its clip job to the clip."""
    return ClipWhy(trigger=spike.trigger, t=spike.t, probability=spike.probability,
                   votes=dict(spike.votes), contributions=dict(spike.contributions),
                   model=spike.model)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
