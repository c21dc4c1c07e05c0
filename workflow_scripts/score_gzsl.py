import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.zeroshot.evaluation import ProtocolError, SplitsError, StaleInput
from zsar.zeroshot.gzsl import score_gzsl

try:
    score_gzsl(dict(snakemake.input.items()), snakemake.output[0], run=snakemake.wildcards.run,
               target=snakemake.wildcards.target, protocol=f"0_{snakemake.wildcards.unseen}",
               tau=snakemake.params.tau, config=snakemake.params.config, log=lambda line: print(line, file=sys.stderr),
               **snakemake.params.gzsl)
except (ProtocolError, SplitsError, StaleInput, ValueError) as error:
    sys.exit(f"zsar: {error}")
