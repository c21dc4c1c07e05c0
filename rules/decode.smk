rule check_data:
    """Stop before any decoding or training when a dataset's videos do not match its class list."""
    input:
        index="index/{dataset}.parquet",
    output:
        "index/{dataset}.gate.json",
    params:
        manifest=manifest_digest,
        root=lambda wc: f"{DATA}/{wc.dataset}",
        min_decodable=config["data_gate"]["min_decodable"],
        min_videos_per_class=config["data_gate"]["min_videos_per_class"],
    log:
        "logs/check_data/{dataset}.log",
    benchmark:
        "logs/check_data/{dataset}.benchmark.tsv"
    script:
        "../workflow_scripts/check_data.py"


rule decode_clips:
    """Decode and resize one shard's videos into the clip cache (zsar/cache.py)."""
    input:
        index="index/{dataset}/{shard}.parquet",
        # Waits for the gate; ancient: the gate rewritten after one shard's reindexing reruns no other shard.
        gate=ancient("index/{dataset}.gate.json"),
    output:
        "clips/{dataset}/{shard}.h5",
    params:
        root=lambda wc: f"{DATA}/{wc.dataset}",
        short_side=lambda wc: decode_settings(wc.dataset)["short_side"],
        codec=lambda wc: codec_settings(decode_settings(wc.dataset)),
        # A cache written by another format version is rebuilt, never misread.
        format=CACHE_FORMAT_VERSION,
    log:
        "logs/decode_clips/{dataset}/{shard}.log",
    benchmark:
        "logs/decode_clips/{dataset}/{shard}.benchmark.tsv"
    script:
        "../workflow_scripts/decode_clips.py"


rule catalogue_clips:
    """clips/{dataset}.parquet: every cached video with its label, split, frame count and shard."""
    input:
        shards=lambda wc: shard_files("clips/{dataset}/{shard}.h5", wc.dataset),
        index="index/{dataset}.parquet",
    output:
        "clips/{dataset}.parquet",
    log:
        "logs/catalogue_clips/{dataset}.log",
    benchmark:
        "logs/catalogue_clips/{dataset}.benchmark.tsv"
    script:
        "../workflow_scripts/catalogue_clips.py"
