rule render_synthetic:
    """Draw the embedded synthetic world's videos (H.264 mp4) and their annotations."""
    output:
        videos=directory(f"{DATA}/{{dataset}}/videos"),
        annotations=f"{DATA}/{{dataset}}/annotations.csv",
    log:
        "logs/render_synthetic/{dataset}.log",
    benchmark:
        "logs/render_synthetic/{dataset}.benchmark.tsv"
    wildcard_constraints:
        dataset="|".join(RENDERED),
    conda:
        "../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        videos_per_class=lambda wc: config["synthetic"]["videos_per_class"][wc.dataset],
        seed=config["synthetic"]["seed"],
        frames=config["synthetic"]["frames"],
        size=config["synthetic"]["size"],
        fps=config["synthetic"]["fps"],
    script:
        "../workflow_scripts/render_synthetic.py"
