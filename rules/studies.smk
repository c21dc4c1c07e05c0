rule study_table:
    """results/studies/{study}.csv and .md: a study's variants side by side (config's `studies`),
    with their spread over splits and training seeds and the paper's number beside each row.
    Not part of the default target: ask for it by name (studies/*.yaml)."""
    input:
        lambda wc: plan.study_inputs(wc.study),
    output:
        csv="results/studies/{study}.csv",
        md="results/studies/{study}.md",
    log:
        "logs/study_table/{study}.log",
    benchmark:
        "logs/study_table/{study}.benchmark.tsv"
    wildcard_constraints:
        study=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    conda:
        "../envs/zsar.yaml"
    params:
        study=lambda wc: {"name": wc.study, **config["studies"][wc.study]},
        composed=config["compose"]["select"] == "cv",
    script:
        "../workflow_scripts/study_table.py"


# A study named "summary" would also match results/{run}/summary.csv (tabulate_run).
ruleorder: study_table > tabulate_run
