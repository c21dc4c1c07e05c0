# JigsawNet's own stages (zsar/methods/jigsaw/): what its spec's class_files and video_files name
# beyond the stages every method shares. Every rules/methods/*.smk is included by the Snakefile.


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
        "../../envs/zsar.yaml"
    params:
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../../workflow_scripts/phrase_states.py"


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
        "../../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        error_rate=config["objects"]["synthetic_error_rate"],
        seed=config["synthetic"]["seed"],
    script:
        "../../workflow_scripts/simulate_objects.py"


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
        "../../envs/zsar.yaml"
    params:
        embedding=lambda wc: plan.embedding(wc.embedding),
    script:
        "../../workflow_scripts/embed_objects.py"
