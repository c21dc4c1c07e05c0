def seen_prototype_inputs(wildcards):
    source = run_settings(wildcards.run)["source"]
    return {
        "features": f"features/{wildcards.run}/{source}_seen.h5",
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


def select_composition_inputs(wildcards):
    settings = run_settings(wildcards.run)
    source = settings["source"]
    return {
        "seen": "prototypes/{run}/seen.h5",
        "features": f"features/{wildcards.run}/{source}_seen.h5",
        "index": f"index/{source}.parquet",
        "seen_vectors": f"semantic/{settings['embedding']}/{source}.h5",
    }


rule select_composition:
    """(epsilon, K, d) by k-fold cross-validation over the seen classes only (ResT)."""
    input:
        unpack(select_composition_inputs),
    output:
        "prototypes/{run}/composition.json",
    log:
        "logs/select_composition/{run}.log",
    benchmark:
        "logs/select_composition/{run}.benchmark.tsv"
    params:
        grid=config["compose"]["grid"],
        folds=config["compose"]["folds"],
        seed=config["compose"]["seed"],
    script:
        "../workflow_scripts/select_composition.py"


def compose_inputs(wildcards):
    settings = run_settings(wildcards.run)
    inputs = {
        "seen": "prototypes/{run}/seen.h5",
        "splits": "splits/{target}_{seen}_{unseen}.json",
        "seen_vectors": f"semantic/{settings['embedding']}/{settings['source']}.h5",
        "target_vectors": f"semantic/{settings['embedding']}/{wildcards.target}.h5",
    }
    if config["compose"]["select"] == "cv":
        inputs["selection"] = "prototypes/{run}/composition.json"
    return inputs


def fixed_composition():
    """compose.K, epsilon and d when they are not cross-validated (they are then not a rerun trigger)."""
    c = config["compose"]
    return {k: c[k] for k in ("K", "epsilon", "d")} if c["select"] == "fixed" else None


rule compose_prototypes:
    """Unseen-class prototypes composed from seen ones by ResT's integer program, per split and variant."""
    input:
        unpack(compose_inputs),
    output:
        "prototypes/{run}/{target}_{seen}_{unseen}.h5",
    log:
        "logs/compose_prototypes/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/compose_prototypes/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    params:
        fixed=fixed_composition(),
        capacity=config["compose"]["capacity"],
    script:
        "../workflow_scripts/compose_prototypes.py"
