"""What the fuser needs to know of one signal, declared in one place.

A signal module in this package declares one `FuserSignal`: the topic it comes on, how the
messages of one second are summed up into plain numbers, which of those numbers the model
reads (scored against the channel's normal or as they are, each with its prior weight), and
its part in the 2-of-3 rule, if it has one. The bucketer, the feature list, the prior model
and the fuser's topics are all built from these declarations.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from services.fuser.rules import VoteRules
from services.fuser.zscore import RobustZ
from shared.streams import Topic

Values = dict[str, float | None]
"""Numbers by name; None: the signal gave nothing for it."""


@dataclass(frozen=True)
class Feature:
    """One model input: the raw number it comes from, and its weight in the hand-set prior.

    With `normal`, the raw number is scored against the channel's own recent values (a robust
    z-score; `normal` makes the scorer, given the warm-up in seconds); without, it is used as
    it is.
    """

    name: str
    raw: str
    prior: float
    normal: Callable[[int], RobustZ] | None = None
    combine: Callable[[Values], float | None] | None = None
    """Made from the features listed before it (by name) instead of from a raw number; `raw`
    and `normal` are then not used."""
    model: bool = True
    """An input of the model (and a column of features.csv). False: only a part that another
    feature is made from; it is still scored and travels in each event row."""


@dataclass(frozen=True)
class FuserSignal:
    """One signal as the fuser sees it.

    - `summarize` turns the messages of one second into raw numbers (None where the signal
      says nothing).
    - `steady`: it reports every second while it runs, so a second waits for it, and a second
      without it is marked missing.
    - `spans`: one message may cover several seconds (a caption).
    - `reacts_later`: it reacts to the stream some seconds after the moment (chat). Its
      numbers for a second come from the messages of the next `chat_delay` seconds, it never
      holds a second open, and it is missing only while it has said nothing at all.
    - `vote` names the 2-of-3 vote it takes part in; `votes` says whether this second's numbers
      cast it. Several signals may share one vote (words and prosody both make "voice").
    - `late_vote`: for a signal that reacts later, a message that casts the vote by itself for
      the seconds it reacts to, even when it comes after they closed.
    - `late_window`: the stream seconds (first, last) such a message reacts to, when it names
      them (a chat spike's estimated moment); None: the `chat_delay` seconds before it. A clip
      that the vote leads starts early enough to hold them.
    """

    name: str
    topic: Topic[Any]
    summarize: Callable[[Sequence[Any]], Values]
    features: tuple[Feature, ...] = ()
    steady: bool = True
    spans: bool = False
    reacts_later: bool = False
    vote: str | None = None
    votes: Callable[[Values, Values, VoteRules], bool] | None = None
    late_vote: Callable[[Any], bool] | None = None
    late_window: Callable[[Any], tuple[float, float] | None] | None = None
    lateness_s: float | None = None
    """How far behind the newest signal it may run before a second closes without it (None:
    the `fuser_lateness_s` setting). A signal made in batches (video frames come per segment)
    runs later than one made in small steps (sound)."""
    order: int = 100
    """Where it sits in the feature list and the CSV columns (lower first)."""
