rule extract_embeddings:
    """One embedding per video of a target shard: the mean over its test clips. A GPU job when the
    profile gives it one (float16 autocast there); the same code on the CPU."""
    input:
        unpack(lambda wc: plan.extract_inputs(wc.run, wc.dataset, wc.shard)),
    output:
        "features/{run}/{dataset}/{shard}.h5",
    log:
        "logs/extract_embeddings/{run}/{dataset}/{shard}.log",
    benchmark:
        "logs/extract_embeddings/{run}/{dataset}/{shard}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    threads: config["extract"]["threads"]
    resources:
        **extract_resources(),
    params:
        sampling=run_setting("sampling"),
        per_clip=config["extract"]["per_clip"],
        video_side=lambda wc: sorted(plan.test_video_side(wc.run, wc.dataset)),
        batch_size=config["extract"]["batch_size"],
        workers=config["extract"]["workers"],
    script:
        "../workflow_scripts/extract_embeddings.py"


rule extract_seen:
    """Embeddings of the source videos behind the seen prototypes: kept classes only, at most
    seen_prototypes.videos_per_class per class and split, clips_per_video clips each."""
    input:
        unpack(lambda wc: plan.seen_inputs(wc.run, wc.source, wc.shard)),
    output:
        "features/{run}/{source}_seen/{shard}.h5",
    log:
        "logs/extract_seen/{run}/{source}/{shard}.log",
    benchmark:
        "logs/extract_seen/{run}/{source}/{shard}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    threads: config["extract"]["threads"]
    resources:
        **extract_resources(),
    params:
        sampling=run_setting("sampling"),
        select=config["seen_prototypes"],
        video_side=lambda wc: sorted(plan.test_video_side(wc.run, wc.source)),
        batch_size=config["extract"]["batch_size"],
        workers=config["extract"]["workers"],
    script:
        "../workflow_scripts/extract_seen.py"


rule extract_phrases:
    """A target's atomic actions projected into the run's video space by its model's text projection
    (methods scored by alignment, JigsawNet); the same file format as the phrases it reads."""
    input:
        # phrases, and with model.text_layers their hidden states below those layers
        unpack(lambda wc: plan.class_projection_inputs(wc.run, wc.dataset)),
        model="models/{run}/model.pt",
    output:
        "features/{run}/{dataset}_phrases.h5",
    log:
        "logs/extract_phrases/{run}/{dataset}.log",
    benchmark:
        "logs/extract_phrases/{run}/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/extract_phrases.py"


rule merge_features:
    """features/{run}/{dataset}.h5 (and {source}_seen.h5): a dataset's feature shards in one file."""
    input:
        lambda wc: plan.shard_files("features/{run}/{dataset}%s/{shard}.h5" % wc.part, wc.dataset, run=wc.run),
    output:
        "features/{run}/{dataset}{part}.h5",
    log:
        "logs/merge_features/{run}/{dataset}{part}.log",
    benchmark:
        "logs/merge_features/{run}/{dataset}{part}.benchmark.tsv"
    wildcard_constraints:
        part="|_seen",
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/merge_features.py"
