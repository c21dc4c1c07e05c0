def score_inputs(wildcards):
    settings = run_settings(wildcards.run)
    check_protocol(wildcards)
    require_data([settings["source"], wildcards.target])
    embedding = settings["embedding"]
    scored_by = method_spec(settings["method"]).scores
    return {
        **({"phrases": "features/{run}/{target}_phrases.h5"} if "alignment" in scored_by else {}),
        "features": "features/{run}/{target}.h5",
        "index": f"index/{wildcards.target}.parquet",
        "prototypes": "prototypes/{run}/{target}_{seen}_{unseen}.h5",
        "seen": "prototypes/{run}/seen.h5",
        "splits": "splits/{target}_{seen}_{unseen}.json",
        "vectors": f"semantic/{embedding}/{wildcards.target}.h5",
        "source_vectors": f"semantic/{embedding}/{settings['source']}.h5",
        "model": "models/{run}/model.json",
    }


def provenance(wildcards):
    """Everything in config.yaml that this result depends on, recorded in the results JSON."""
    settings = run_settings(wildcards.run)
    datasets = [settings["source"], wildcards.target]
    return {
        "run": wildcards.run,
        # What a job asks a cluster for does not change the result, so it must not rerun scoring.
        **{k: v for k, v in settings.items() if k != "resources"},
        "seed": config["seed"],
        "overlap": config["overlap"],
        "embedding_spec": embedding_spec(settings["embedding"]),
        # How the cache is cut into shards, or compressed when raw, does not change a result.
        "decode": {
            d: {k: v for k, v in decode_settings(d).items() if k not in ("videos_per_shard", "compression")}
            for d in datasets
        },
        "seen_prototypes": config["seen_prototypes"],
        # The rendering of this result's own datasets (not of the other rendered worlds).
        "synthetic": (
            {
                **{k: v for k, v in config["synthetic"].items() if k != "videos_per_class"},
                "videos_per_class": {d: config["synthetic"]["videos_per_class"][d] for d in datasets if d in RENDERED},
            }
            if set(datasets) & set(RENDERED)
            else None
        ),
        "splits": config["splits"],
        "compose": config["compose"],
        # Only for methods that read descriptions: the other results keep their config as it was.
        **(
            {"descriptions": config["descriptions"]} if "class_phrases" in method_spec(settings["method"]).needs else {}
        ),
        **({"objects": config["objects"]} if settings["model"].get("objects") else {}),
    }


rule score_splits:
    """Top-1/top-5, hubness, per-class accuracy and confusion of every path on every split."""
    input:
        unpack(score_inputs),
    output:
        json="results/{run}/{target}_{seen}_{unseen}.json",
        confusion="results/{run}/{target}_{seen}_{unseen}.confusion.h5",
    log:
        "logs/score_splits/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/score_splits/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    params:
        tau=config["overlap"]["tau"],
        config=provenance,
    script:
        "../workflow_scripts/score_splits.py"


def default_run_result(wildcards):
    run = config["default_run"].get(wildcards.target)
    if run is None:
        manifest(wildcards.target)  # an unknown dataset is named first
        stop(
            f"no default run for target '{wildcards.target}': add it under default_run in config.yaml, "
            f"or ask for results/<run>/{wildcards.target}_{wildcards.seen}_{wildcards.unseen}.json.\n" + valid_targets()
        )
    check_protocol(wildcards)
    return f"results/{run}/{wildcards.target}_{wildcards.seen}_{wildcards.unseen}.json"


rule default_result:
    """results/{target}_{seen}_{unseen}.json: the default run's result for that target."""
    input:
        default_run_result,
    output:
        "results/{target}_{seen}_{unseen}.json",
    log:
        "logs/default_result/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/default_result/{target}_{seen}_{unseen}.benchmark.tsv"
    run:
        import shutil
        from zsar.io import atomic_output

        with atomic_output(output[0]) as tmp:
            shutil.copyfile(input[0], tmp)


def protocols(target):
    """The protocols tabulated for a target: its published splits if its manifest has them
    (Kinetics-ZSAR: 60 validation / 160 test classes), else the configured 0/N (0/50 and 0/100)."""
    return protocols_of(target)[-1:] if manifest(target).get("protocol_splits") else protocols_of(target)


rule tabulate_run:
    """results/{run}/summary.csv: every target and protocol of a run, a row per path and variant."""
    input:
        lambda wc: [
            f"results/{wc.run}/{target}_{protocol}.json"
            for target in run_settings(wc.run)["targets"]
            for protocol in protocols(target)
        ],
    output:
        "results/{run}/summary.csv",
    log:
        "logs/tabulate/{run}.log",
    benchmark:
        "logs/tabulate/{run}.benchmark.tsv"
    run:
        from zsar.io import atomic_output
        from zsar.summary import summary_table

        with atomic_output(output[0]) as tmp:
            summary_table(input).to_csv(tmp, index=False)


rule tabulate:
    """results/summary.csv: the runs in config's summary_runs side by side, on their shared splits,
    laid out as the papers' tables (a row per method, run and path; columns per target and protocol)."""
    input:
        lambda wc: [f"results/{run}/summary.csv" for run in config["summary_runs"]],
    output:
        "results/summary.csv",
    log:
        "logs/tabulate/all.log",
    benchmark:
        "logs/tabulate/all.benchmark.tsv"
    run:
        import pandas as pd
        from zsar.io import atomic_output
        from zsar.summary import papers_layout

        table = papers_layout(pd.concat([pd.read_csv(path) for path in input], ignore_index=True))
        with atomic_output(output[0]) as tmp:
            table.to_csv(tmp, index=False)
