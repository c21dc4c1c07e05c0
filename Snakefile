# zsar: zero-shot action recognition as a cached Snakemake DAG. See README.md.
import os
import sys

from snakemake.utils import min_version, validate

from zsar.io import YAMLFileError, load_yaml
from zsar.pipeline.locks import clear_stale, record_owner, release_owner

min_version("9.0")

# HDF5's file locks fail or hang on many network file systems (NFS, Lustre); every HDF5 file here
# has one writer, which writes under a temporary name, so locking buys nothing. Jobs sent to a
# cluster get the variable too (envvars).
os.environ.setdefault("HDF5_USE_FILE_LOCKING", "FALSE")
# With --sdm conda, envs/zsar.yaml installs zsar from this checkout by an absolute path (a relative one
# would start from the copy of that file that Snakemake builds the environment from).
os.environ["ZSAR_ROOT"] = workflow.basedir


envvars:
    "HDF5_USE_FILE_LOCKING",
    "ZSAR_ROOT",


# A lock left by a run that was killed is removed when its process is gone (zsar/pipeline/locks.py); a run
# records that it holds the lock, and forgets it when it ends. Jobs on a cluster parse this file
# too, and leave the lock alone.
if workflow.is_main_process:
    clear_stale()


onstart:
    record_owner()


onsuccess:
    release_owner()


onerror:
    release_owner()


# The working directory's config.yaml, else the workflow's own: `snakemake -d elsewhere` builds a
# study's world apart from the demo's artefacts (studies/world.yaml). Project files (the schema,
# data_manifest/, rules, scripts, envs) are read beside this Snakefile; data and artefacts go to
# the working directory.
CONFIG_FILE = "config.yaml" if os.path.exists("config.yaml") else os.path.join(workflow.basedir, "config.yaml")
# Snakemake reports a broken config file without its name or line; say where it breaks.
if os.path.exists(CONFIG_FILE):
    try:
        load_yaml(CONFIG_FILE)
    except YAMLFileError as error:
        sys.exit(f"zsar: {error}")


configfile: CONFIG_FILE


validate(config, "config.schema.yaml")


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/render.smk"
include: "rules/index.smk"
include: "rules/semantics.smk"
include: "rules/decode.smk"
include: "rules/train.smk"
include: "rules/extract.smk"
include: "rules/splits.smk"
include: "rules/prototypes.smk"
include: "rules/score.smk"
include: "rules/report.smk"
include: "rules/studies.smk"
include: "rules/predict.smk"


# A method's own stages, for files its spec names that no shared stage makes (docs/adding_a_method.md).
for method_rules in sorted(os.listdir(os.path.join(workflow.basedir, "rules", "methods"))):
    if method_rules.endswith(".smk"):

        include: os.path.join("rules", "methods", method_rules)


rule all:
    default_target: True
    input:
        plan.default_targets(),


track_code(workflow.rules)
