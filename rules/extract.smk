rule extract_embeddings:
    """One embedding per video: the mean over its test clips."""
    input:
        model="models/{run}/model.pt",
        clips="clips/{dataset}/{shard}.h5",
    output:
        "features/{run}/{dataset}/{shard}.h5",
    params:
        sampling=lambda wc: run_settings(wc.run)["sampling"],
    threads: 1
    log:
        "logs/extract_embeddings/{run}/{dataset}/{shard}.log",
    benchmark:
        "logs/extract_embeddings/{run}/{dataset}/{shard}.benchmark.tsv"
    script:
        "../workflow_scripts/extract_embeddings.py"
