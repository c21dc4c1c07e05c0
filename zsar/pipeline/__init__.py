"""The DAG's plan (what each rule reads and depends on) and its bookkeeping: code tracking, kept
outputs, locks and provenance."""
