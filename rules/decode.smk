rule check_data:
    """Stop before any decoding or training when a dataset's videos do not match its class list."""
    input:
        index="index/{dataset}.parquet",
    output:
        "index/{dataset}.gate.json",
    log:
        "logs/check_data/{dataset}.log",
    benchmark:
        "logs/check_data/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        root=lambda wc: plan.root(wc.dataset),
        min_decodable=config["data_gate"]["min_decodable"],
        min_videos_per_class=config["data_gate"]["min_videos_per_class"],
        # A run's source must have training videos of every class, not only val ones.
        source=lambda wc: any(s["source"] == wc.dataset for s in config["runs"].values()),
    script:
        "../workflow_scripts/check_data.py"


rule cache_settings:
    """clips/{dataset}.settings.json: how a cache's frames are stored, as a file every shard reads.

    In the clip cache's rules {dataset} names a cache: a dataset at one short side, clips/ucf101 at its
    configured side, clips/ucf101@256 at another that a run asks for (sampling.short_side). The
    wildcard keeps its name: renaming it would change the decoding script, and redecode every cache.

    Not parameters of decode_clips: Snakemake does not compare a job's parameters when a job
    upstream of it reruns (here the data gate, an `ancient` input), so a changed codec would be
    missed when the index changes in the same run. This rule has no input; its parameters are
    always compared, and a change redecodes every shard.
    """
    output:
        "clips/{dataset}.settings.json",
    log:
        "logs/cache_settings/{dataset}.log",
    benchmark:
        "logs/cache_settings/{dataset}.benchmark.tsv"
    wildcard_constraints:
        dataset=CACHE,
    params:
        short_side=lambda wc: plan.cache_settings(wc.dataset)["short_side"],
        codec=lambda wc: codec_settings(plan.cache_settings(wc.dataset)),
        # which decoder reads the videos: another decodes the cache again, but the frames are the same
        # (zsar/data/video.py) and no model retrains
        backend=lambda wc: plan.cache_settings(wc.dataset)["backend"],
        # A cache written by another format version is rebuilt, never misread.
        format=CACHE_FORMAT_VERSION,
    run:
        from zsar.io import write_json

        write_json(
            output[0],
            {"short_side": params.short_side, "format": params.format, "backend": params.backend, **params.codec},
        )


rule decode_clips:
    """Decode and resize one shard's videos into the clip cache (zsar/data/cache.py)."""
    input:
        index=lambda wc: f"index/{plan.cache_dataset(wc.dataset)}/{wc.shard}.parquet",
        # Waits for the gate; ancient: the gate rewritten after one shard's reindexing reruns no other shard.
        gate=lambda wc: ancient(f"index/{plan.cache_dataset(wc.dataset)}.gate.json"),
        settings="clips/{dataset}.settings.json",
    output:
        "clips/{dataset}/{shard}.h5",
    log:
        "logs/decode_clips/{dataset}/{shard}.log",
    benchmark:
        "logs/decode_clips/{dataset}/{shard}.benchmark.tsv"
    wildcard_constraints:
        dataset=CACHE,
    conda:
        "../envs/zsar.yaml"
    params:
        root=lambda wc: plan.root(plan.cache_dataset(wc.dataset)),
    script:
        "../workflow_scripts/decode_clips.py"


rule catalogue_clips:
    """clips/{dataset}.parquet: every video of a cache with its label, split, frame count and shard."""
    input:
        shards=lambda wc: plan.shard_files(f"clips/{wc.dataset}/{{shard}}.h5", plan.cache_dataset(wc.dataset)),
        index=lambda wc: f"index/{plan.cache_dataset(wc.dataset)}.parquet",
    output:
        "clips/{dataset}.parquet",
    log:
        "logs/catalogue_clips/{dataset}.log",
    benchmark:
        "logs/catalogue_clips/{dataset}.benchmark.tsv"
    wildcard_constraints:
        dataset=CACHE,
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/catalogue_clips.py"
