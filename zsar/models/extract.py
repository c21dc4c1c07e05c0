"""The extract stage: a trained model applied to the N test clips of every video, averaged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from zsar.data.clips import TestClips
from zsar.data.sampling import to_model_input
from zsar.io import load_weights
from zsar.methods import method as method_spec
from zsar.progress import Progress


@torch.no_grad()
def embed_videos(model, videos: pd.DataFrame, *, length: int, stride: int, crop: int, n_clips: int,
                 batch_size: int = 8, workers: int = 0, per_clip: bool = False, video_side=None, log=None):
    """(n_videos, embed_dim) float32: the mean of each video's clip embeddings.

    `video_side` (zsar.methods.spec.VideoSide) gives each video's inputs besides its clips to a model
    that takes them (JigsawNet's objects), the same for all its clips, as keywords of `model.embed`.

    Runs where the model is; on a GPU in float16 autocast, with `workers` loader processes
    decoding clips ahead of it. `batch_size` counts videos (each of `n_clips` clips). With
    per_clip, also the clip embeddings themselves, (n_videos, n_clips, embed_dim). `log` gets
    progress lines (done, rate, ETA).
    """
    model.eval()
    device = next(model.parameters()).device
    cuda = device.type == "cuda"
    clips_of = TestClips(videos, length=length, stride=stride, crop=crop, n_clips=n_clips, video_side=video_side)
    loader = DataLoader(clips_of, batch_size=batch_size, num_workers=workers, pin_memory=cuda,
                        prefetch_factor=PREFETCH if workers else None)
    progress = Progress(len(videos), "videos", log) if log is not None else None
    means, clips = [], []
    for batch in loader:
        batch = dict(batch)
        b, n = batch["clips"].shape[:2]
        x = to_model_input(batch.pop("clips").to(device, non_blocking=True).flatten(0, 1))
        # each clip of a video gets the video's inputs
        side = {k: v.to(device).repeat_interleave(n, dim=0) for k, v in batch.items()}
        with torch.autocast(device.type, dtype=torch.float16, enabled=cuda):
            embedded = model.embed(x, **side).float().view(b, n, -1)
        means.append(embedded.mean(dim=1).cpu())
        if per_clip:
            clips.append(embedded.cpu())
        if progress is not None:
            progress.advance(b)
    dim = model.embed_dim
    mean = torch.cat(means).numpy() if means else np.zeros((0, dim), np.float32)
    if not per_clip:
        return mean
    return mean, (torch.cat(clips).numpy() if clips else np.zeros((0, n_clips, dim), np.float32))


PREFETCH = 4  # batches each loader process decodes ahead


def batch_within(mem_mb: int, batch_size: int, *, n_clips: int, frames: int, crop: int, workers: int,
                 cuda: bool) -> int:
    """The videos a batch may hold so that the decoded clips in flight take at most half of a job's
    `mem_mb` (the rest is the model's, its activations' and Python's): `batch_size` or fewer.

    In flight: the batches the loader processes decode ahead (PREFETCH each), the one in use and,
    on a GPU, its pinned copy; on the CPU the model's input, flipped and normalised in float32,
    counts 8 batches of uint8 more (two float copies). At K700's 25 test clips a video holds 15 MB
    of 16 x 112 x 112 frames and 60 MB at 224."""
    per_video = n_clips * frames * crop * crop * 3
    batches = workers * PREFETCH + 1 + (1 if cuda else 8)
    return max(1, min(batch_size, (mem_mb * 2**20 // 2) // (per_video * batches)))


def embed_with(model_path, videos: pd.DataFrame, sampling: dict, *, n_clips: int, batch_size: int = 16,
               workers: int = 0, threads: int = 1, per_clip: bool = False, video_files: dict | None = None,
               mem_mb: int | None = None, log=None):
    """The extraction stages: load a trained model onto the GPU when there is one (else the CPU, with
    `threads` threads), embed `videos`' clips (with the inputs of its method's `video_files`, for a
    model that reads files per video), and return (embeddings, clip embeddings or None). With the
    job's `mem_mb`, batches hold fewer than `batch_size` videos where that many would not fit
    (batch_within)."""
    import sys

    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    torch.set_num_threads(threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if mem_mb is not None:
        fits = batch_within(mem_mb, batch_size, n_clips=n_clips, frames=sampling["frames"], crop=sampling["crop"],
                            workers=workers, cuda=device.type == "cuda")
        if fits < batch_size:
            log(f"batches of {fits} videos, not extract.batch_size {batch_size}: {batch_size} videos of {n_clips} "
                f"clips of {sampling['frames']} x {sampling['crop']}² would hold more decoded clips than half of the "
                f"job's mem_mb ({mem_mb}); raise extract.resources.mem_mb for larger batches")
        batch_size = fits
    checkpoint = load_weights(model_path)
    spec = method_spec(checkpoint.get("method", "e2e"))
    model = _from_checkpoint(spec, checkpoint).to(device)
    video_side = spec.video_side(video_files or {})
    if video_side is not None:  # training checked that the files are this dataset's
        log(video_side.check(videos["video_id"], "videos", required=False))
    log(f"embedding {len(videos)} videos x {n_clips} clips on {device}"
        f"{' (float16 autocast)' if device.type == 'cuda' else f' ({threads} threads)'}, batch {batch_size}, "
        f"{workers} loader workers")
    out = embed_videos(model, videos, length=sampling["frames"], stride=sampling["stride"], crop=sampling["crop"],
                       n_clips=n_clips, batch_size=batch_size, workers=workers, per_clip=per_clip,
                       video_side=video_side, log=log)
    return out if per_clip else (out, None)


def load_model(path) -> torch.nn.Module:
    """The trained model of any method, in eval mode; `.embed(clips)` gives video embeddings.

    The file is loaded weights-only (zsar.io.load_weights): one that would run code is refused.
    """
    checkpoint = load_weights(path)
    return _from_checkpoint(method_spec(checkpoint.get("method", "e2e")), checkpoint)


def _from_checkpoint(spec, checkpoint: dict) -> torch.nn.Module:
    model = spec.module.from_checkpoint(checkpoint)
    model.load_state_dict(checkpoint["state_dict"])
    return model.eval()


@torch.no_grad()
def project_phrases(model_path, embeddings: np.ndarray, states: dict | None = None) -> np.ndarray:
    """Sentence embeddings of phrases (P, text_dim) through a trained model's text projection: (P, d)
    unit rows in the space of its video embeddings (methods scored by alignment). A model that trained
    its text encoder's last layers takes the phrases' `states` instead (zsar.semantics.text_encoder's
    read_phrase_states, rows as the embeddings')."""
    model = load_model(model_path)
    if getattr(model, "text_top", None) is not None:
        if states is None:
            raise ValueError(f"{model_path} trained its text encoder's last layers: it needs the phrases' states")
        rows = torch.arange(len(states["states"]))
        return model.project_phrases((torch.from_numpy(states["states"]), torch.from_numpy(states["mask"]), rows)).numpy()
    return model.project_phrases(torch.from_numpy(np.asarray(embeddings, dtype=np.float32))).numpy()
