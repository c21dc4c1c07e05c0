rule embed_classes:
    """Class names to L2-normalised mean word vectors (or sentence embeddings)."""
    output:
        "semantic/{embedding}/{dataset}.h5",
    log:
        "logs/embed_classes/{embedding}/{dataset}.log",
    benchmark:
        "logs/embed_classes/{embedding}/{dataset}.benchmark.tsv"
    wildcard_constraints:
        embedding=plan.embeddings_of(clip=False),
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../workflow_scripts/embed_classes.py"


rule embed_clip_classes:
    """Class prompts through a CLIP's text tower (an embedding of kind clip), the user's checkpoint
    checked when the DAG is built; the same file as embed_classes writes."""
    input:
        unpack(lambda wc: plan.embedding_inputs(wc.embedding)),
    output:
        "semantic/{embedding}/{dataset}.h5",
    log:
        "logs/embed_clip_classes/{embedding}/{dataset}.log",
    benchmark:
        "logs/embed_clip_classes/{embedding}/{dataset}.benchmark.tsv"
    wildcard_constraints:
        embedding=plan.embeddings_of(clip=True),
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../workflow_scripts/embed_clip_classes.py"


rule filter_overlap:
    """Keep the source classes at cosine distance >= tau from every target class."""
    input:
        unpack(lambda wc: plan.overlap_inputs(wc.embedding, wc.source, wc.targets)),
    output:
        table="semantic/{embedding}/{source}_minus_{targets}.tsv",
    log:
        "logs/filter_overlap/{embedding}/{source}_minus_{targets}.log",
    benchmark:
        "logs/filter_overlap/{embedding}/{source}_minus_{targets}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        tau=config["overlap"]["tau"],
        targets=lambda wc: wc.targets.split("_"),
    script:
        "../workflow_scripts/filter_overlap.py"


rule atomic_actions:
    """Each class description split into verb phrases, JigsawNet's atomic actions: a TSV of class,
    phrase and global atomic id to read, and to correct through descriptions.corrections."""
    input:
        unpack(lambda wc: plan.description_files(wc.dataset)),
    output:
        "semantic/atomic/{dataset}.tsv",
    log:
        "logs/atomic_actions/{dataset}.log",
    benchmark:
        "logs/atomic_actions/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=lambda wc: manifest_digest(wc, descriptions=True),
        parser=config["descriptions"]["parser"],
    script:
        "../workflow_scripts/atomic_actions.py"


rule embed_phrases:
    """The atomic actions of a dataset embedded by a sentence encoder (unit rows, one per class and phrase)."""
    input:
        "semantic/atomic/{dataset}.tsv",
    output:
        "semantic/{embedding}/{dataset}_phrases.h5",
    log:
        "logs/embed_phrases/{embedding}/{dataset}.log",
    benchmark:
        "logs/embed_phrases/{embedding}/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../workflow_scripts/embed_phrases.py"
