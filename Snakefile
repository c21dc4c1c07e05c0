# zsar: zero-shot action recognition as a cached Snakemake DAG. See README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, "config.schema.yaml")


include: "rules/common.smk"
include: "rules/render.smk"
include: "rules/index.smk"
include: "rules/semantics.smk"
include: "rules/decode.smk"
include: "rules/train.smk"
include: "rules/extract.smk"
include: "rules/prototypes.smk"
include: "rules/score.smk"


rule all:
    input:
        config["all_targets"],
    default_target: True
