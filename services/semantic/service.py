"""The semantic worker: each final caption in, what it means out (a `Semantic` message).

Stateless: replicas share the captions through one consumer group, so each caption is scored
once. Interim captions may still change, so they are skipped.

The model runs on one thread of its own: its tokenizer must not be used from two threads at
once, and the event loop stays free for the heartbeat while a caption is scored.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from services.semantic.model import load_embed
from services.semantic.scores import Scores, TextScorer
from shared.bus import Delivery
from shared.contracts import Caption, Semantic
from shared.runtime import ServiceContext
from shared.settings import Settings
from shared.streams import SEMANTIC

MODEL_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semantic-model")


def build_scorer(settings: Settings) -> TextScorer:
    """Load the model (once per process) and embed the seed phrases."""
    return TextScorer.build(
        load_embed(settings.semantic_torch_threads),
        hype_words=settings.semantic_hype_words,
        excited=settings.semantic_excited_phrases,
        calm=settings.semantic_calm_phrases,
        lexicon=settings.semantic_lexicon,
        threshold=settings.semantic_fuzzy_threshold,
    )


def semantic_message(caption: Caption, scores: Scores) -> Semantic:
    """The scores, stamped with the caption's own times."""
    return Semantic(
        channel=caption.channel, session=caption.session, t=caption.t, dur=caption.dur,
        wall=caption.wall, text=caption.text, sentiment=scores.sentiment,
        hype_words=scores.hype_words, excited_sim=scores.excited_sim,
        excited_margin=scores.excited_margin,
    )


async def main(ctx: ServiceContext) -> None:
    loop = asyncio.get_running_loop()
    ctx.state, ctx.detail = "starting", "loading the sentence model"
    scorer = await loop.run_in_executor(MODEL_THREAD, build_scorer, ctx.settings)
    ctx.state, ctx.detail = "running", ""
    ctx.log.info("sentence model ready")

    async def handle(delivery: Delivery[Caption]) -> None:
        caption = delivery.message
        if not caption.final:
            return
        scores = await loop.run_in_executor(MODEL_THREAD, scorer.score, caption.text)
        await ctx.bus.publish(SEMANTIC, semantic_message(caption, scores),
                              channel=caption.channel)

    await ctx.consume(handle)
