# The CLIP family's own stages (zsar/methods/clip/, zsar/methods/vificlip/) beyond the stages every
# method shares. Every rules/methods/*.smk is included by the Snakefile.


rule extract_prompts:
    """A target's class prompts (the tokens of the run's embedding, of kind clip) through the run's
    trained text tower, for a method scored by prompts (ViFi-CLIP); a class embedding file."""
    input:
        model="models/{run}/model.pt",
        prompts=lambda wc: f"semantic/{plan.run(wc.run)['embedding']}/{wc.dataset}.h5",
    output:
        "features/{run}/{dataset}_prompts.h5",
    log:
        "logs/extract_prompts/{run}/{dataset}.log",
    benchmark:
        "logs/extract_prompts/{run}/{dataset}.benchmark.tsv"
    conda:
        "../../envs/zsar.yaml"
    script:
        "../../workflow_scripts/extract_prompts.py"
