"""Training clips that travel as JPEG and are decoded where the model is (train.decode: device).

The clip cache stores each frame as a JPEG (zsar.data.cache). With `decode: device`, TrainClips
gives a clip's frames as stored, a tenth of their pixels' bytes, with the clip's crop box; `collate`
packs a batch's frames into one byte tensor, and `decode_clips` decodes them all in one call of
TorchCodec's decode_jpeg on the model's device (nvJPEG on a GPU, libjpeg-turbo on the CPU) and
crops them there. The clips are the same clips as the CPU path's (same frames, boxes and flips),
their pixels those of another JPEG decoder: on the CPU libjpeg-turbo's, as simplejpeg's (tested,
PSNR >= 45 dB); on a GPU nvJPEG's.
"""

from __future__ import annotations

import numpy as np

def read_encoded(video, indices) -> list[np.ndarray]:
    """Frames `indices` (any order, repeats allowed) of a zsar.data.cache.CachedVideo as the cache
    stores them, one JPEG's bytes each (uint8). Kept out of zsar.data.cache, whose code is the
    decoding stage's too: a change here never re-decodes a cache."""
    from zsar.data.cache import DamagedCache

    shard = video._shard
    if shard.codec != "jpeg":
        raise ValueError(f"{shard.path} stores raw frames, not JPEG: decoding on the model's device "
                         "(train.decode: device) reads a JPEG cache; set train.decode: cpu for this one")
    indices = np.asarray(indices, dtype=np.int64)
    wanted = np.unique(indices)
    if not len(wanted):
        return []
    if wanted[0] < 0 or wanted[-1] >= video.n_frames:
        raise IndexError(f"frames {wanted[0]}..{wanted[-1]} of a {video.n_frames}-frame video")
    base, first = int(shard.offset_start[video._i]), int(wanted[0])
    try:
        offsets = shard.file["offsets"][base + first: base + int(wanted[-1]) + 2]  # byte positions
        span = video._data[offsets[0]:offsets[-1]]  # one read: a clip's frames are close together
    except (OSError, ValueError, RuntimeError) as error:
        raise DamagedCache(f"{shard.path}: frames {wanted[0]}..{wanted[-1]} of video {video.video_id} cannot be read "
                           f"back ({error}); delete {shard.path} and run snakemake again") from None
    offsets = offsets - offsets[0]
    frames = [span[offsets[j]:offsets[j + 1]] for j in wanted - first]
    return [frames[k] for k in np.searchsorted(wanted, indices)]


def collate(samples: list[dict]):
    """A batch of TrainClips samples; those that carry JPEG frames (key `jpeg`, a list of byte
    arrays a clip) get them packed: `jpeg` all frames' bytes, `jpeg_offsets` where each frame
    starts (B * T + 1), `box` each clip's (top, left), `crop` its side."""
    import torch
    from torch.utils.data import default_collate

    if not samples or "jpeg" not in samples[0]:
        return default_collate(samples)
    frames = [frame for sample in samples for frame in sample["jpeg"]]
    offsets = np.zeros(len(frames) + 1, np.int64)
    np.cumsum([len(frame) for frame in frames], out=offsets[1:])
    rest = default_collate([{k: v for k, v in sample.items() if k != "jpeg"} for sample in samples])
    return {**rest, "jpeg": torch.from_numpy(np.concatenate(frames)), "jpeg_offsets": torch.from_numpy(offsets)}


def decode_clips(batch: dict, device) -> "torch.Tensor":  # noqa: F821
    """Remove the JPEG keys from `batch` (as `collate` made them, on the CPU) and return its clips,
    (B, T, crop, crop, 3) uint8 on `device`, decoded there in one batched call."""
    import torch
    from torchcodec.decoders import decode_jpeg

    data, offsets = batch.pop("jpeg"), batch.pop("jpeg_offsets").tolist()
    boxes, crop = batch.pop("box").tolist(), int(batch.pop("crop")[0])
    frames = [data[offsets[k]:offsets[k + 1]] for k in range(len(offsets) - 1)]
    decoded = decode_jpeg(frames, mode="RGB", device=device)
    length = len(frames) // len(boxes)
    crops = []
    for k, image in enumerate(decoded):  # (3, H, W), frame k of clip k // length
        top, left = boxes[k // length]
        crops.append(image[:, top:top + crop, left:left + crop])
    return torch.stack(crops).view(len(boxes), length, 3, crop, crop).permute(0, 1, 3, 4, 2)
