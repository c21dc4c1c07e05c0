import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.evaluation import ProtocolError, StaleInput, score_splits

try:
    score_splits(dict(snakemake.input.items()), snakemake.output.json, snakemake.output.confusion,
                 run=snakemake.wildcards.run, target=snakemake.wildcards.target, tau=snakemake.params.tau,
                 config=snakemake.params.config)
except (ProtocolError, StaleInput) as error:
    sys.exit(str(error))
