"""zsar: zero-shot action recognition as a cached Snakemake DAG."""

__version__ = "0.7.0"
