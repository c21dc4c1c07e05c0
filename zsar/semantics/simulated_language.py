"""The language sources of MAXI's text bags for the embedded world, as the renderer knows its videos:
phrases a language model would write for a class name, and a captioner's captions of single frames.

The phrases (5 a class, as the supplement asks of GPT-3) reword the class's motion in other verbs
("falling": "dropping", "tumbling down") around its object. The captions (one per frame of 4 spread
over the video) say what one frame shows: where the object is, or a verb a frame can show ("a ring
lying on the floor"), never the class name itself; a share of them name a wrong object, as a
captioner errs. Both are functions of the seed and the video (or class), whatever the order.
"""

from __future__ import annotations

import hashlib

import numpy as np

# What a language model might say of each motion: verb phrases around {obj}.
PHRASES = {
    "falling": ["dropping the {obj}", "the {obj} tumbling down", "letting the {obj} fall", "the {obj} dropping to the floor",
                "a {obj} coming down"],
    "spinning": ["turning the {obj} around", "the {obj} rotating in place", "twirling the {obj}", "whirling a {obj}",
                 "rotating the {obj}"],
    "bouncing": ["the {obj} hopping off the floor", "bouncing the {obj}", "the {obj} jumping up and down",
                 "the {obj} rebounding", "a {obj} springing back up"],
    "growing": ["the {obj} getting bigger", "enlarging the {obj}", "the {obj} swelling", "inflating a {obj}",
                "the {obj} expanding"],
    "shaking": ["wobbling the {obj}", "the {obj} jiggling", "rattling a {obj}", "the {obj} vibrating",
                "jolting the {obj} from side to side"],
    "blinking": ["the {obj} flashing on and off", "the {obj} flickering", "hiding and showing the {obj}",
                 "the {obj} appearing and vanishing", "a {obj} twinkling"],
    "orbiting": ["the {obj} circling the middle", "moving the {obj} in a circle", "the {obj} going around",
                 "revolving a {obj}", "the {obj} travelling round the centre"],
    "rolling": ["the {obj} rolling along the floor", "pushing the {obj} across the ground", "the {obj} tumbling sideways",
                "wheeling the {obj} along", "the {obj} turning over and over on the floor"],
}
# What one frame of each motion may show a captioner.
CAPTIONS = {
    "falling": ["a {obj} high above the floor", "a {obj} dropping towards the floor", "a {obj} hanging in the air"],
    "spinning": ["a {obj} tilted to one side", "a {obj} standing in the middle", "a {obj} turned on its side"],
    "bouncing": ["a {obj} jumping off the floor", "a {obj} touching the floor", "a {obj} floating in the air"],
    "growing": ["a small {obj} in the middle", "a large {obj} filling the picture", "a {obj} getting bigger"],
    "shaking": ["a blurry {obj}", "a {obj} wobbling in the middle", "a {obj} leaning to the left"],
    "blinking": ["an empty dark picture", "a {obj} appearing on a dark background", "a {obj} in the middle"],
    "orbiting": ["a {obj} near the edge of the picture", "a {obj} circling the middle", "a {obj} in a corner"],
    "rolling": ["a {obj} lying on the floor", "a {obj} moving along the floor", "a {obj} resting on the ground"],
}


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")])


def _motions(cls: dict) -> list[str]:
    return list(cls["motions"]) if "motions" in cls else [cls["motion"]]


def class_phrases(classes: list[dict]) -> list[tuple[str, str]]:
    """(class, phrase) rows: 5 phrases a class, from its (first) motion, around its object."""
    return [(cls["name"], phrase.format(obj=cls["object"])) for cls in classes for phrase in PHRASES[_motions(cls)[0]]]


def frame_captions(videos, class_of: dict, objects: list[str], *, error_rate: float, seed: int,
                   per_video: int = 4) -> list[tuple[str, str]]:
    """(video_id, caption) rows: `per_video` captions of a video's frames, each from one of its motions'
    frame views; in `error_rate` of them another object of `objects` stands for the drawn one."""
    rows = []
    for video_id, label in videos:
        cls, rng = class_of[label], _rng(seed, video_id)
        for k in range(per_video):
            motions = _motions(cls)
            motion = motions[min(len(motions) - 1, k * len(motions) // per_video)]
            obj = cls["object"]
            if rng.random() < error_rate:
                others = [o for o in objects if o != obj]
                obj = others[rng.integers(len(others))]
            views = CAPTIONS[motion]
            rows.append((video_id, views[rng.integers(len(views))].format(obj=obj)))
    return rows
