rule make_splits:
    """Seeded random class splits of a target (0/50), or all its classes (0/100)."""
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
    script:
        "../workflow_scripts/make_splits.py"
