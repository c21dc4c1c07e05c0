"""A toy fourth method, added as a user would add one (docs/adding_a_method.md): a linear projection
of pooled clip pixels onto the class-name vectors, trained like E2E by regressing the class vector.

It lives outside zsar, in its own package; a run names it by its import path (`method: toylinear`).
This file is its torch-free spec; model.py holds the model and its training.
"""

from zsar.methods import Method

SPEC = Method(
    name="toylinear",
    paper="none: a linear probe of pooled pixels onto the class-name word vectors",
    needs=("class_vectors",),  # the kept classes' word vectors (semantics["class_vectors"])
    scores=("word_vectors",),  # its embeddings live in the word-vector space: nearest class vector
    paths=("e2e",),  # the word-vector path, named after E2E, which scores it first
    model_defaults={"pool": 4},  # pooled to (time 1, pool x pool) per colour channel
    train_defaults={"epochs": 3, "batch_size": 8, "lr": 0.01, "workers": 0, "processes": 1},
    sampling_presets={"toylinear": {"frames": 4, "stride": 2, "crop": 28, "test_clips": 2}},
    default_sampling="toylinear",
)
