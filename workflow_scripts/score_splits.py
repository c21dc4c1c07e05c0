import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.zeroshot.evaluation import ProtocolError, SplitsError, StaleInput, score_splits

try:
    score_splits(dict(snakemake.input.items()), snakemake.output.json, snakemake.output.confusion,
                 run=snakemake.wildcards.run, target=snakemake.wildcards.target, tau=snakemake.params.tau,
                 config=snakemake.params.config)
except (ProtocolError, SplitsError, StaleInput) as error:
    sys.exit(f"zsar: {error}")
