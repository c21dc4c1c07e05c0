def train_inputs(wildcards):
    settings = run_settings(wildcards.run)
    source = settings["source"]
    return {
        # ancient: a cache re-cut into other shards, or recompressed, retrains nothing; what the model
        # saw is the `data` parameter (frames_identity), which changes when a video or the frames do.
        "clips": ancient(f"clips/{source}.parquet"),
        "vectors": f"semantic/{settings['embedding']}/{source}.h5",
        "overlap": overlap_table(wildcards.run),
    }


rule train_model:
    """Train the run's model on the kept source classes; keep the best epoch on held-out source videos."""
    input:
        unpack(train_inputs),
    output:
        model="models/{run}/model.pt",
        history="models/{run}/history.csv",
        info="models/{run}/model.json",
    params:
        method=lambda wc: run_settings(wc.run)["method"],
        model=lambda wc: run_settings(wc.run)["model"],
        train=lambda wc: run_settings(wc.run)["train"],
        sampling=lambda wc: run_settings(wc.run)["sampling"],
        seed=config["seed"],
        data=lambda wc: frames_identity(run_settings(wc.run)["source"]),
        # Not an output: Snakemake would delete it when a job fails, and it is what a rerun resumes from.
        checkpoint="models/{run}/checkpoint.pt",
    threads: 8  # Snakemake caps this at --cores
    resources:
        # From runs.<run>.resources; cluster profiles turn gpu into a GPU request and partition.
        gpu=lambda wc: run_settings(wc.run)["resources"]["gpu"],
        mem_mb=lambda wc: run_settings(wc.run)["resources"]["mem_mb"],
        runtime=lambda wc: run_settings(wc.run)["resources"]["runtime"],
    log:
        "logs/train_model/{run}.log",
    benchmark:
        "logs/train_model/{run}.benchmark.tsv"
    script:
        "../workflow_scripts/train_model.py"
