def index_inputs(wildcards):
    """The files the index is built from: rendered annotations, or the dataset's own on disk."""
    if wildcards.dataset in RENDERED:
        return {"annotations": f"{DATA}/{wildcards.dataset}/annotations.csv",
                "videos": f"{DATA}/{wildcards.dataset}/videos"}
    require_data([wildcards.dataset])
    return {"required": [f"{DATA}/{wildcards.dataset}/{rel}" for rel in manifest(wildcards.dataset)["required"]]}


rule index_videos:
    """List every video with label, split and shard, and what decord finds when it opens it."""
    input:
        unpack(index_inputs),
        manifest=manifest_file,
    output:
        "index/{dataset}.parquet",
    params:
        root=lambda wc: f"{DATA}/{wc.dataset}",
        n_shards=lambda wc: n_shards(wc.dataset),
        min_frames=lambda wc: decode_settings(wc.dataset)["min_frames"],
    threads: 8  # probing runs in parallel; Snakemake caps this at --cores
    log:
        "logs/index_videos/{dataset}.log",
    benchmark:
        "logs/index_videos/{dataset}.benchmark.tsv"
    script:
        "../workflow_scripts/index_videos.py"
