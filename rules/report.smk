# The figures and tables of `snakemake --report report.html`, drawn by zsar/report/plots.py from the
# artefacts of the other stages. One figure kind per rule, so that each is redrawn alone
# (snakemake --forcerun plot_training); nothing here feeds a result.


rule plot_results:
    """Top-1/top-5 of every summary run on every target and protocol, with the published numbers."""
    input:
        results=lambda wc: [
            f"results/{run}/{target}_{protocol}.json" for run, target, protocol in plan.report_results()
        ],
        summary="results/summary.csv",
    output:
        figure=report(
            "plots/results.png", caption="../report/results.rst", category="Results", labels={"item": "figure"}
        ),
        table=report(
            "plots/results.html", caption="../report/results_table.rst", category="Results", labels={"item": "table"}
        ),
        summary=report(
            "plots/summary.html",
            caption="../report/summary.rst",
            category="Results",
            labels={"item": "papers' layout"},
        ),
    log:
        "logs/plot_results/all.log",
    benchmark:
        "logs/plot_results/all.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/plot_results.py"


rule plot_overlap:
    """The overlap filter: distances to the targets against tau, and a map of the class embeddings."""
    input:
        table="semantic/{embedding}/{source}_minus_{targets}.tsv",
        source="semantic/{embedding}/{source}.h5",
        targets=lambda wc: expand("semantic/{{embedding}}/{t}.h5", t=wc.targets.split("_")),
    output:
        distances=report(
            "plots/overlap/{embedding}/{source}_minus_{targets}_distances.png",
            caption="../report/overlap_distances.rst",
            category="Overlap filter",
            labels={"classes": "{source} minus {targets}", "embedding": "{embedding}", "figure": "distances"},
        ),
        map=report(
            "plots/overlap/{embedding}/{source}_minus_{targets}_map.png",
            caption="../report/overlap_map.rst",
            category="Overlap filter",
            labels={"classes": "{source} minus {targets}", "embedding": "{embedding}", "figure": "map"},
        ),
    log:
        "logs/plot_overlap/{embedding}/{source}_minus_{targets}.log",
    benchmark:
        "logs/plot_overlap/{embedding}/{source}_minus_{targets}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        tau=config["overlap"]["tau"],
        targets=lambda wc: wc.targets.split("_"),
    script:
        "../workflow_scripts/plot_overlap.py"


rule plot_training:
    """Training loss and validation accuracy per epoch."""
    input:
        "models/{run}/history.csv",
    output:
        report(
            "plots/{run}/training.png", caption="../report/training.rst", category="Training", labels={"run": "{run}"}
        ),
    log:
        "logs/plot_training/{run}.log",
    benchmark:
        "logs/plot_training/{run}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/plot_training.py"


rule plot_classes:
    """Per target class: accuracy, the confusion matrix, and accuracy against distance to training."""
    input:
        unpack(lambda wc: plan.plot_classes_inputs(wc.run, wc.target, protocol(wc))),
    output:
        per_class=report(
            "plots/{run}/{target}_{seen}_{unseen}_per_class.png",
            caption="../report/per_class.rst",
            category="Per class",
            subcategory="{target} {seen}/{unseen}",
            labels={"run": "{run}", "figure": "accuracy per class"},
        ),
        confusion=report(
            "plots/{run}/{target}_{seen}_{unseen}_confusion.png",
            caption="../report/confusion.rst",
            category="Per class",
            subcategory="{target} {seen}/{unseen}",
            labels={"run": "{run}", "figure": "confusion"},
        ),
        distance=report(
            "plots/{run}/{target}_{seen}_{unseen}_distance.png",
            caption="../report/distance.rst",
            category="Accuracy vs distance",
            subcategory="{target} {seen}/{unseen}",
            labels={"run": "{run}"},
        ),
    log:
        "logs/plot_classes/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/plot_classes/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/plot_classes.py"


rule plot_prototypes:
    """Composed unseen prototypes among the test videos, hubness, and what each is composed from."""
    input:
        result="results/{run}/{target}_{seen}_{unseen}.json",
        confusion="results/{run}/{target}_{seen}_{unseen}.confusion.h5",
        features="features/{run}/{target}.h5",
        prototypes="prototypes/{run}/{target}_{seen}_{unseen}.h5",
    output:
        map=report(
            "plots/{run}/{target}_{seen}_{unseen}_prototypes.png",
            caption="../report/prototypes_map.rst",
            category="Prototypes",
            subcategory="{target} {seen}/{unseen}",
            labels={"run": "{run}", "figure": "map"},
        ),
        hubness=report(
            "plots/{run}/{target}_{seen}_{unseen}_hubness.png",
            caption="../report/hubness.rst",
            category="Prototypes",
            subcategory="{target} {seen}/{unseen}",
            labels={"run": "{run}", "figure": "hubness"},
        ),
        composition=report(
            "plots/{run}/{target}_{seen}_{unseen}_composition.html",
            caption="../report/composition.rst",
            category="Prototypes",
            subcategory="{target} {seen}/{unseen}",
            labels={"run": "{run}", "figure": "composition"},
        ),
    log:
        "logs/plot_prototypes/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/plot_prototypes/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/plot_prototypes.py"


rule plot_data:
    """Per dataset: videos listed, decodable and failed, and each failed video's problem."""
    input:
        index="index/{dataset}.parquet",
        gate="index/{dataset}.gate.json",
    output:
        report(
            "plots/data/{dataset}.html", caption="../report/data.rst", category="Data", labels={"dataset": "{dataset}"}
        ),
    log:
        "logs/plot_data/{dataset}.log",
    benchmark:
        "logs/plot_data/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/plot_data.py"
