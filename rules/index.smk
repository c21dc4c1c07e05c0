def index_inputs(wildcards):
    if wildcards.dataset in RENDERED:
        return {"annotations": f"{DATA}/{wildcards.dataset}/annotations.csv",
                "videos": f"{DATA}/{wildcards.dataset}/videos"}
    require_data([wildcards.dataset])
    stop(
        f"{manifest(wildcards.dataset)['name']} is on disk, but indexing its layout is not "
        "implemented yet: zsar indexes the embedded synthetic world only so far."
    )


rule index_videos:
    """List every video with label, split and shard, and what decord finds when it opens it."""
    input:
        unpack(index_inputs),
    output:
        "index/{dataset}.parquet",
    params:
        root=lambda wc: f"{DATA}/{wc.dataset}",
        n_shards=lambda wc: n_shards(wc.dataset),
    log:
        "logs/index_videos/{dataset}.log",
    benchmark:
        "logs/index_videos/{dataset}.benchmark.tsv"
    script:
        "../workflow_scripts/index_videos.py"
