rule decode_clips:
    """Decode and resize one shard's videos into the HDF5 clip cache."""
    input:
        index="index/{dataset}/{shard}.parquet",
    output:
        "clips/{dataset}/{shard}.h5",
    params:
        root=lambda wc: f"{DATA}/{wc.dataset}",
        short_side=lambda wc: decode_settings(wc.dataset)["short_side"],
    log:
        "logs/decode_clips/{dataset}/{shard}.log",
    benchmark:
        "logs/decode_clips/{dataset}/{shard}.benchmark.tsv"
    script:
        "../workflow_scripts/decode_clips.py"
