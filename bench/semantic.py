"""Semantic numbers: how long one caption burst takes to score (p50, p95 over ~200 varied
phrases, on the torch threads the settings name), split into its parts, and how long loading
the sentence model takes in a fresh process."""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from services.semantic.scores import TextScorer, clean_text
from services.semantic.service import build_scorer
from shared.settings import Settings

LOAD_SCRIPT = """
import time
start = time.perf_counter()
from services.semantic.model import load_embed
load_embed({threads})
print(time.perf_counter() - start)
"""

OPENERS = ["", "okay so ", "chat, ", "wait wait ", "honestly ", "oh my god ", "bro ", "alright "]
BODIES = [
    "that was an insane clutch", "let me check the settings menu", "LET'S GOOOOO",
    "I'm going to grab some water real quick", "no way he hit that shot", "what just happened",
    "thanks for the follow and welcome in", "we need to rotate to the left side of the map",
    "insaaane play by the whole team", "hold on, my headset is acting up again",
    "are you kidding me right now", "so the plan is we farm for ten minutes and then push",
    "OMGGG did you see that", "that was kind of a boring round to be honest",
    "clutchhh one versus three, unbelievable", "read the chat, someone asked about my mouse",
    "holy crap we actually won the tournament", "let me explain how this build works",
    "what a play, what a play, what a play", "asdkjh qwe zzz",
    "I think the next patch changes the whole meta and we will have to relearn the early "
    "game, which is fine, I like learning new stuff, but it takes a few days",
    "yes yes yes yes we did it chat we did it",
]
ENDINGS = ["", "!", "!!!", " lol", " right now", ", chat", "?"]


def phrases(count: int = 200) -> list[str]:
    """`count` different phrases, short and long, calm and hyped."""
    combos = itertools.product(BODIES, OPENERS, ENDINGS)
    picked = [f"{o}{b}{e}" for i, (b, o, e) in enumerate(combos) if i % 5 == 0]
    return picked[:count]


def time_ms(work: Callable[[str], object], texts: list[str]) -> list[float]:
    found = []
    for text in texts:
        start = time.perf_counter()
        work(text)
        found.append((time.perf_counter() - start) * 1000)
    return found


def load_time_s(threads: int) -> float:
    """Import torch and load the model in a fresh process: what a worker pays at start."""
    out = subprocess.run([sys.executable, "-c", LOAD_SCRIPT.format(threads=threads)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    settings = Settings()
    load_s = load_time_s(settings.semantic_torch_threads)
    start = time.perf_counter()
    scorer: TextScorer = build_scorer(settings)
    in_process_s = time.perf_counter() - start
    texts = phrases()
    for text in texts[:10]:  # warm up
        scorer.score(text)
    total = time_ms(scorer.score, texts)
    cleaned = [clean_text(t) for t in texts]
    embed = time_ms(lambda t: scorer.embed([t]), cleaned)
    vader = time_ms(scorer.analyzer.polarity_scores, cleaned)
    hype = time_ms(scorer.hype.find, cleaned)

    def p95(values: list[float]) -> float:
        return statistics.quantiles(values, n=20)[-1]

    return {
        "phrases": float(len(texts)),
        "torch_threads": float(settings.semantic_torch_threads),
        "model_load_fresh_process_s": load_s,
        "model_load_and_seeds_in_process_s": in_process_s,
        "burst_ms_p50": statistics.median(total),
        "burst_ms_p95": p95(total),
        "burst_ms_max": max(total),
        "embed_ms_p50": statistics.median(embed),
        "vader_ms_p50": statistics.median(vader),
        "hype_ms_p50": statistics.median(hype),
        "hype_ms_p95": p95(hype),
    }


if __name__ == "__main__":
    for key, value in run().items():
        print(f"{key:<40} {value:,.3f}")
