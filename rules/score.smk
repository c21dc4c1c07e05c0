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
    conda:
        "../envs/zsar.yaml"
    params:
        tau=config["overlap"]["tau"],
        config=lambda wc: plan.provenance(wc.run, wc.target),
    script:
        "../workflow_scripts/score_splits.py"


rule score_gzsl:
    """Generalized zero-shot on the splits of 0/N: the source's held-out videos of the trained classes and
    the target's of a split's unseen classes, each labelled among all of them; seen and unseen accuracy,
    their harmonic mean, before and after calibrated stacking (zsar/zeroshot/gzsl.py)."""
    input:
        unpack(lambda wc: plan.gzsl_inputs(wc.run, wc.target, f"0_{wc.unseen}")),
    output:
        "results/{run}/{target}_gzsl_{unseen}.json",
    log:
        "logs/score_gzsl/{run}/{target}_{unseen}.log",
    benchmark:
        "logs/score_gzsl/{run}/{target}_{unseen}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        tau=config["overlap"]["tau"],
        config=lambda wc: plan.provenance(wc.run, wc.target),
        gzsl=lambda wc: {"seen_to_unseen": config["gzsl"]["seen_to_unseen"], "seed": config["gzsl"]["seed"]},
    script:
        "../workflow_scripts/score_gzsl.py"


rule default_result:
    """results/{target}_{seen}_{unseen}.json: the default run's result for that target."""
    input:
        lambda wc: plan.default_result(wc.target, protocol(wc)),
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


rule tabulate_run:
    """results/{run}/summary.csv: every target and protocol of a run, a row per path and variant."""
    input:
        lambda wc: plan.run_results(wc.run),
    output:
        "results/{run}/summary.csv",
    log:
        "logs/tabulate/{run}.log",
    benchmark:
        "logs/tabulate/{run}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/tabulate_run.py"


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
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/tabulate.py"
