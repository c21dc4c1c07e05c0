rule extract_embeddings:
    """One embedding per video: the mean over its test clips."""
    input:
        model="models/{run}/model.pt",
        clips="clips/{dataset}/{shard}.h5",
    output:
        "features/{run}/{dataset}/{shard}.h5",
    params:
        sampling=lambda wc: run_settings(wc.run)["sampling"],
        per_clip=config["extract"]["per_clip"],
    threads: 1
    log:
        "logs/extract_embeddings/{run}/{dataset}/{shard}.log",
    benchmark:
        "logs/extract_embeddings/{run}/{dataset}/{shard}.benchmark.tsv"
    script:
        "../workflow_scripts/extract_embeddings.py"


rule merge_features:
    """features/{run}/{dataset}.h5: a dataset's feature shards in one file."""
    input:
        lambda wc: shard_files("features/{run}/{dataset}/{shard}.h5", wc.dataset, run=wc.run),
    output:
        "features/{run}/{dataset}.h5",
    log:
        "logs/merge_features/{run}/{dataset}.log",
    benchmark:
        "logs/merge_features/{run}/{dataset}.benchmark.tsv"
    run:
        from zsar.features import merge_features

        with open(log[0], "w") as handle:
            print(f"{merge_features(input, output[0])} videos from {len(input)} shards", file=handle)
