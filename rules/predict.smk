# Predictions for your own videos and class names (docs/predictions.md): a trained run labels a folder
# of videos (a manifest of layout_kind folder) with a class list's names (any manifest's classes).
# The videos go through the shared stages (listing, index, cache, extraction), the class list through
# the class-side ones, so a second class list over the same folder reuses the videos' embeddings.


rule predict_videos:
    """predictions/{run}/{videos}_{classes}.csv: each video's top-k classes by the run's path, and
    the videos that could not be read; the .json beside it says how (path, near-trained names, code)."""
    input:
        unpack(lambda wc: plan.prediction_inputs(wc.run, wc.videos, wc.classes)),
    output:
        csv="predictions/{run}/{videos}_{classes}.csv",
        json="predictions/{run}/{videos}_{classes}.json",
    log:
        "logs/predict_videos/{run}/{videos}_{classes}.log",
    benchmark:
        "logs/predict_videos/{run}/{videos}_{classes}.benchmark.tsv"
    wildcard_constraints:
        videos=r"[a-z0-9]+",
        classes=r"[a-z0-9]+",
    conda:
        "../envs/zsar.yaml"
    params:
        path=lambda wc: plan.prediction_path(wc.run),
        top_k=config["predict"]["top_k"],
        tau=config["overlap"]["tau"],
    script:
        "../workflow_scripts/predict_videos.py"


rule plot_predictions:
    """The report's page of a prediction: per video a strip of its frames (from the clip cache) and its
    top-5 classes with their scores."""
    input:
        predictions="predictions/{run}/{videos}_{classes}.csv",
        record="predictions/{run}/{videos}_{classes}.json",
        clips=lambda wc: plan.shard_files(f"clips/{plan.run_cache(wc.run, wc.videos)}/{{shard}}.h5", wc.videos),
    output:
        report(
            "plots/predictions/{run}/{videos}_{classes}.html",
            caption="../report/predictions.rst",
            category="Predictions",
            subcategory="{videos}",
            labels={"run": "{run}", "classes": "{classes}"},
        ),
    log:
        "logs/plot_predictions/{run}/{videos}_{classes}.log",
    benchmark:
        "logs/plot_predictions/{run}/{videos}_{classes}.benchmark.tsv"
    wildcard_constraints:
        videos=r"[a-z0-9]+",
        classes=r"[a-z0-9]+",
    conda:
        "../envs/zsar.yaml"
    params:
        videos=config["predict"]["page_videos"],
    script:
        "../workflow_scripts/plot_predictions.py"
