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
        root=lambda wc: f"{DATA}/{wc.dataset}",
        min_decodable=config["data_gate"]["min_decodable"],
        min_videos_per_class=config["data_gate"]["min_videos_per_class"],
        # A run's source must have training videos of every class, not only val ones.
        source=lambda wc: any(s["source"] == wc.dataset for s in config["runs"].values()),
    script:
        "../workflow_scripts/check_data.py"


rule cache_settings:
    """clips/{dataset}.settings.json: how a dataset's frames are cached, as a file every shard reads.

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
    params:
        short_side=lambda wc: plan.decode_settings(wc.dataset)["short_side"],
        codec=lambda wc: codec_settings(plan.decode_settings(wc.dataset)),
        # A cache written by another format version is rebuilt, never misread.
        format=CACHE_FORMAT_VERSION,
    run:
        from zsar.io import write_json

        write_json(output[0], {"short_side": params.short_side, "format": params.format, **params.codec})


rule decode_clips:
    """Decode and resize one shard's videos into the clip cache (zsar/data/cache.py)."""
    input:
        index="index/{dataset}/{shard}.parquet",
        # Waits for the gate; ancient: the gate rewritten after one shard's reindexing reruns no other shard.
        gate=ancient("index/{dataset}.gate.json"),
        settings="clips/{dataset}.settings.json",
    output:
        "clips/{dataset}/{shard}.h5",
    log:
        "logs/decode_clips/{dataset}/{shard}.log",
    benchmark:
        "logs/decode_clips/{dataset}/{shard}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        root=lambda wc: f"{DATA}/{wc.dataset}",
    script:
        "../workflow_scripts/decode_clips.py"


rule catalogue_clips:
    """clips/{dataset}.parquet: every cached video with its label, split, frame count and shard."""
    input:
        shards=lambda wc: plan.shard_files("clips/{dataset}/{shard}.h5", wc.dataset),
        index="index/{dataset}.parquet",
    output:
        "clips/{dataset}.parquet",
    log:
        "logs/catalogue_clips/{dataset}.log",
    benchmark:
        "logs/catalogue_clips/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/catalogue_clips.py"
