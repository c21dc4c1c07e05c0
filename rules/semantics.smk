rule embed_classes:
    """Class names to L2-normalised mean word vectors."""
    output:
        "semantic/{embedding}/{dataset}.h5",
    log:
        "logs/embed_classes/{embedding}/{dataset}.log",
    benchmark:
        "logs/embed_classes/{embedding}/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../workflow_scripts/embed_classes.py"


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


rule phrase_states:
    """The atomic actions through the frozen bottom of a sentence encoder: the hidden states entering
    its top {layers} layers, and those layers' weights, for a run that trains them (model.text_layers)."""
    input:
        "semantic/atomic/{dataset}.tsv",
    output:
        "semantic/{embedding}/{dataset}_phrases_top{layers}.h5",
    log:
        "logs/phrase_states/{embedding}/{dataset}_top{layers}.log",
    benchmark:
        "logs/phrase_states/{embedding}/{dataset}_top{layers}.benchmark.tsv"
    wildcard_constraints:
        layers=r"[1-9]\d*",
    conda:
        "../envs/zsar.yaml"
    params:
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../workflow_scripts/phrase_states.py"


rule simulate_objects:
    """A rendered dataset's object names per video as a detector would give them: the drawn object,
    a wrong one in objects.synthetic_error_rate of the videos."""
    input:
        f"{DATA}/{{dataset}}/annotations.csv",
    output:
        f"{DATA}/{{dataset}}/objects.tsv",
    log:
        "logs/simulate_objects/{dataset}.log",
    benchmark:
        "logs/simulate_objects/{dataset}.benchmark.tsv"
    wildcard_constraints:
        dataset="|".join(RENDERED),
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        error_rate=config["objects"]["synthetic_error_rate"],
        seed=config["synthetic"]["seed"],
    script:
        "../workflow_scripts/simulate_objects.py"


rule embed_objects:
    """The object names of a dataset's videos embedded by a sentence encoder: each name once, and per
    video the ids of its names (JigsawNet's object branch)."""
    input:
        objects=lambda wc: plan.objects_file(wc.dataset),
    output:
        "semantic/{embedding}/{dataset}_objects.h5",
    log:
        "logs/embed_objects/{embedding}/{dataset}.log",
    benchmark:
        "logs/embed_objects/{embedding}/{dataset}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../workflow_scripts/embed_objects.py"
