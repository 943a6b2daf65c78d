"""Settings for learning from chat: which seconds chat labels, and when a channel gets its own
model (see `services/fuser/weak_labels.py` and `services/fuser/retrain_chat.py`)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LearningSettings(BaseModel):
    """Learning: chat as the teacher of each channel's model."""

    learn_min_seconds: int = Field(
        default=600, ge=60,
        description="A channel gets a model of its own once chat has labelled this many of its "
                    "seconds (exciting and not together); until then the global model judges it.",
    )
    learn_before_s: float = Field(
        default=10.0, ge=0, le=60,
        description="Seconds before a chat spike's estimated moment that count as exciting "
                    "(chat reacts 20-30 s late, and the moment is an estimate)...",
    )
    learn_after_s: float = Field(
        default=5.0, ge=0, le=60, description="...and seconds after it."
    )
    learn_far_s: float = Field(
        default=20.0, ge=0, le=600,
        description="A second counts as not exciting only this far from every chat spike's "
                    "seconds; closer ones are unsure and left out.",
    )
    learn_min_rank: float = Field(
        default=0.2, ge=0, lt=1,
        description="The weakest share of a channel's chat spikes teaches nothing (their "
                    "seconds are unsure); the others weigh by their strength's rank.",
    )
    learn_quiet_z: float = Field(
        default=1.0,
        description="A second counts as not exciting only when the chat that would react to "
                    "it stays at or below this many spreads over the channel's normal.",
    )
