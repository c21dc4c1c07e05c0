def seen_prototype_inputs(wildcards):
    source = run_settings(wildcards.run)["source"]
    return {
        "features": shard_files("features/{run}/{dataset}/{shard}.h5", source, run=wildcards.run),
        "index": f"index/{source}.parquet",
        "overlap": overlap_table(wildcards.run),
    }


rule seen_prototypes:
    """Mean embedding of each kept source class's training videos."""
    input:
        unpack(seen_prototype_inputs),
    output:
        "prototypes/{run}/seen.h5",
    log:
        "logs/seen_prototypes/{run}.log",
    benchmark:
        "logs/seen_prototypes/{run}.benchmark.tsv"
    script:
        "../workflow_scripts/seen_prototypes.py"


rule make_splits:
    """Seeded random class splits of a target (0/50), or all its classes (0/100)."""
    input:
        manifest=lambda wc: os.path.join(MANIFESTS, f"{wc.target}.yaml"),
    output:
        "splits/{target}_{seen}_{unseen}.json",
    params:
        n_splits=config["splits"]["count"],
        seed=config["splits"]["seed"],
    log:
        "logs/make_splits/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/make_splits/{target}_{seen}_{unseen}.benchmark.tsv"
    script:
        "../workflow_scripts/make_splits.py"


rule compose_prototypes:
    """Unseen-class prototypes composed from seen ones by ResT's integer program, per split and variant."""
    input:
        seen="prototypes/{run}/seen.h5",
        splits="splits/{target}_{seen}_{unseen}.json",
        seen_vectors=lambda wc: f"semantic/{run_settings(wc.run)['embedding']}/{run_settings(wc.run)['source']}.h5",
        target_vectors=lambda wc: f"semantic/{run_settings(wc.run)['embedding']}/{wc.target}.h5",
    output:
        "prototypes/{run}/{target}_{seen}_{unseen}.h5",
    params:
        K=config["compose"]["K"],
        epsilon=config["compose"]["epsilon"],
        d=config["compose"]["d"],
        capacity=config["compose"]["capacity"],
    log:
        "logs/compose_prototypes/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/compose_prototypes/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    script:
        "../workflow_scripts/compose_prototypes.py"
