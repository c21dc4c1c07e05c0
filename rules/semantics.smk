rule embed_classes:
    """Class names to L2-normalised mean word vectors."""
    output:
        "semantic/{embedding}/{dataset}.h5",
    params:
        manifest=manifest_digest,
        embedding=lambda wc: embedding_spec(wc.embedding),
    log:
        "logs/embed_classes/{embedding}/{dataset}.log",
    benchmark:
        "logs/embed_classes/{embedding}/{dataset}.benchmark.tsv"
    script:
        "../workflow_scripts/embed_classes.py"


rule filter_overlap:
    """Keep the source classes at cosine distance >= tau from every target class."""
    input:
        source="semantic/{embedding}/{source}.h5",
        targets=lambda wc: expand("semantic/{{embedding}}/{t}.h5", t=wc.targets.split("_")),
    output:
        table="semantic/{embedding}/{source}_minus_{targets}.tsv",
        plot="semantic/{embedding}/{source}_minus_{targets}.png",
    params:
        tau=config["overlap"]["tau"],
        targets=lambda wc: wc.targets.split("_"),
    log:
        "logs/filter_overlap/{embedding}/{source}_minus_{targets}.log",
    benchmark:
        "logs/filter_overlap/{embedding}/{source}_minus_{targets}.benchmark.tsv"
    script:
        "../workflow_scripts/filter_overlap.py"
