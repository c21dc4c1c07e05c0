rule seen_prototypes:
    """Mean embedding of each kept source class's training videos."""
    input:
        unpack(lambda wc: plan.seen_prototype_inputs(wc.run)),
    output:
        "prototypes/{run}/seen.h5",
    log:
        "logs/seen_prototypes/{run}.log",
    benchmark:
        "logs/seen_prototypes/{run}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    script:
        "../workflow_scripts/seen_prototypes.py"


rule select_composition:
    """(epsilon, K, d) by cross-validation over the seen classes only, per protocol (compose.rule)."""
    input:
        unpack(lambda wc: plan.select_composition_inputs(wc.run, wc.target, protocol(wc))),
    output:
        "prototypes/{run}/composition_{target}_{seen}_{unseen}.json",
    log:
        "logs/select_composition/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/select_composition/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        grid=config["compose"]["grid"],
        rule=config["compose"]["rule"],
        repeats=config["compose"]["repeats"],
        folds=config["compose"]["folds"],
        seed=config["compose"]["seed"],
    script:
        "../workflow_scripts/select_composition.py"


rule compose_prototypes:
    """Unseen-class prototypes composed from seen ones by ResT's integer program, per split and variant."""
    input:
        unpack(lambda wc: plan.compose_inputs(wc.run, wc.target, protocol(wc))),
    output:
        "prototypes/{run}/{target}_{seen}_{unseen}.h5",
    log:
        "logs/compose_prototypes/{run}/{target}_{seen}_{unseen}.log",
    benchmark:
        "logs/compose_prototypes/{run}/{target}_{seen}_{unseen}.benchmark.tsv"
    conda:
        "../envs/zsar.yaml"
    params:
        fixed=plan.fixed_composition(),
        capacity=config["compose"]["capacity"],
    script:
        "../workflow_scripts/compose_prototypes.py"
