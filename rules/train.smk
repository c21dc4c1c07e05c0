rule training_inputs:
    """models/{run}/inputs.json: what the run's model depends on besides files, as a file.

    Its settings and the identity of the frames it trains on (the plan's trained_frames_digest: the source videos'
    sizes and times, short side, raw or JPEG quality), not how the cache is cut. A parameter of
    train_model would not do: Snakemake does not compare a job's parameters when a job upstream
    reruns, and the clip catalogue upstream is `ancient` (it reruns whenever the cache is re-cut).
    This rule has no input but a downloaded source's listing, ancient, read for its digest: its
    parameters are always compared, and a change retrains.
    """
    input:
        lambda wc: [ancient(path) for path in plan.source_listing(wc.run)],
    output:
        "models/{run}/inputs.json",
    log:
        "logs/training_inputs/{run}.log",
    benchmark:
        "logs/training_inputs/{run}.benchmark.tsv"
    params:
        # The seed apart (below): runs.<run>.seed equal to the global seed retrains nothing.
        settings=lambda wc: plan.training_record(wc.run)["settings"],
        seed=lambda wc: plan.seed(wc.run),
        frames=lambda wc: plan.training_record(wc.run)["frames"],
    run:
        from zsar.io import write_json

        write_json(output[0], {"settings": params.settings, "seed": params.seed, "frames": params.frames})


rule train_model:
    """Train the run's model on the kept source classes; keep the best epoch on held-out source videos."""
    input:
        unpack(train_inputs),
    output:
        model="models/{run}/model.pt",
        history="models/{run}/history.csv",
        info="models/{run}/model.json",
    log:
        "logs/train_model/{run}.log",
    benchmark:
        "logs/train_model/{run}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    threads: 8  # Snakemake caps this at --cores
    resources:
        # From runs.<run>.resources and train.nodes; cluster profiles turn gpu (gres on several
        # nodes) into a GPU request and partition.
        gpu=run_resource("gpu"),
        gres=run_resource("gres", ""),
        nodes=run_resource("nodes"),
        mem_mb=run_resource("mem_mb"),
        runtime=run_resource("runtime"),
    params:
        method=run_setting("method"),
        model=run_setting("model"),
        train=run_setting("train"),
        sampling=run_setting("sampling"),
        seed=lambda wc: plan.seed(wc.run),
        # the names of the method's inputs beyond the class-name vectors and the clips (its spec's
        # class_files and video_files), which its spec reads
        class_side=lambda wc: sorted(plan.class_projection_inputs(wc.run, plan.run(wc.run)["source"])),
        video_side=lambda wc: sorted(plan.video_side(wc.run, plan.run(wc.run)["source"])),
        # Not an output: Snakemake would delete it when a job fails, and it is what a rerun resumes from.
        checkpoint="models/{run}/checkpoint.pt",
    script:
        "../workflow_scripts/train_model.py"
