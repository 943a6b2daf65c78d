"""Gaps: stream time the recording missed (the source dropped, or ingest restarted). It gives
the model nothing; a second inside such a gap is written with "gap" among its missing
signals, so events.csv shows the hole instead of hiding it."""

from __future__ import annotations

from collections.abc import Sequence

from shared.contracts import Gap
from shared.streams import GAPS

from .base import FuserSignal, Values


def summarize(gaps: Sequence[Gap]) -> Values:
    # Only ingest's gaps are holes in the whole recording; motion's mean motion is missing.
    return {"gap": 1.0 if any(g.by == "ingest" for g in gaps) else None}


SIGNAL = FuserSignal(name="gap", topic=GAPS, summarize=summarize, steady=False, spans=True,
                     order=90)
