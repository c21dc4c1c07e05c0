checkpoint list_videos:
    """index/{dataset}/listed.parquet and listed.json: the videos the annotation files list, each
    with its size and time on disk. The one stage that stats every video: the DAG reads this
    listing when it parses (shards, their parameters, what a model trained on), so a cluster job's
    parse stats none. Listed again when the annotation files or the folders holding the videos
    change (docs/data.md: and after overwriting a video in place)."""
    input:
        # a folder of videos to label (layout_kind folder) by existence: its time is the folders parameter's
        unpack(lambda wc: {k: ancient(v) if k == "folder" else v for k, v in plan.index_inputs(wc.dataset).items()}),
    output:
        listed="index/{dataset}/listed.parquet",
        summary="index/{dataset}/listed.json",
    log:
        "logs/list_videos/{dataset}.log",
    benchmark:
        "logs/list_videos/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        root=lambda wc: plan.root(wc.dataset),
        folders=lambda wc: plan.listing_folders(wc.dataset),
    script:
        "../workflow_scripts/list_videos.py"


rule index_videos:
    """List one shard's videos with label and split, and what the decoder (decode.backend) finds in each."""
    input:
        # ancient: a new listing reindexes the shards whose videos changed (the `videos` parameter), not all.
        listed=lambda wc: ancient(plan.listing_input(wc.dataset)),
    output:
        "index/{dataset}/{shard}.parquet",
    log:
        "logs/index_videos/{dataset}/{shard}.log",
    benchmark:
        "logs/index_videos/{dataset}/{shard}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    threads: 4  # probing runs in parallel; Snakemake caps this at --cores
    params:
        manifest=manifest_digest,
        root=lambda wc: plan.root(wc.dataset),
        n_shards=lambda wc: plan.n_shards(wc.dataset),
        min_frames=lambda wc: plan.decode_settings(wc.dataset)["min_frames"],
        # the decoder that probes (decode.backend): another one probes the videos again
        backend=lambda wc: plan.decode_settings(wc.dataset)["backend"],
        # Changes when a video of this shard is overwritten, added or removed: that shard is
        # indexed and decoded again, and what depends on it follows; other shards are left alone.
        videos=lambda wc: plan.shard_stamp(wc.dataset, wc.shard),
    script:
        "../workflow_scripts/index_videos.py"


rule merge_index:
    """index/{dataset}.parquet: the shards' indexes in one table; the log counts and lists problems."""
    input:
        shards=lambda wc: plan.shard_files("index/{dataset}/{shard}.parquet", wc.dataset),
    output:
        "index/{dataset}.parquet",
    log:
        "logs/merge_index/{dataset}.log",
    benchmark:
        "logs/merge_index/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        root=lambda wc: plan.root(wc.dataset),
    script:
        "../workflow_scripts/merge_index.py"
