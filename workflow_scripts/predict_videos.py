import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.zeroshot.predictions import predict

predict(dict(snakemake.input.items()), snakemake.output.csv, snakemake.output.json, run=snakemake.wildcards.run,
        videos_name=snakemake.wildcards.videos, classes_name=snakemake.wildcards.classes, path=snakemake.params.path,
        top_k=snakemake.params.top_k, tau=snakemake.params.tau, log=lambda line: print(line, file=sys.stderr))
