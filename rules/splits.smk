rule make_splits:
    """Seeded random class splits of a target (0/50), all its classes (0/100), or all of them on each
    official split's test videos (0/full: UCF101, HMDB51)."""
    output:
        "splits/{target}_{seen}_{unseen}.json",
    log:
        "logs/make_splits/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/make_splits/{target}_{seen}_{unseen}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=lambda wc: plan.check_protocol(wc.target, protocol(wc)) or plan.manifest_digest(wc.target),
        n_splits=config["splits"]["count"],
        seed=config["splits"]["seed"],
        root=lambda wc: plan.root(wc.target),  # where a dataset's official split lists lie (0/full)
    script:
        "../workflow_scripts/make_splits.py"
