# The CLIP family's own stages (zsar/methods/clip/, zsar/methods/vificlip/) beyond the stages every
# method shares. Every rules/methods/*.smk is included by the Snakefile.


rule extract_prompts:
    """A target's class prompts (the tokens of the run's embedding, of kind clip) through the run's
    trained text tower, for a method scored by prompts (ViFi-CLIP); a class embedding file."""
    input:
        model="models/{run}/model.pt",
        prompts=lambda wc: f"semantic/{plan.run(wc.run)['embedding']}/{wc.dataset}.h5",
    output:
        "features/{run}/{dataset}_prompts.h5",
    log:
        "logs/extract_prompts/{run}/{dataset}.log",
    benchmark:
        "logs/extract_prompts/{run}/{dataset}.benchmark.tsv"
    conda:
        "../../envs/zsar.yaml"
    script:
        "../../workflow_scripts/extract_prompts.py"


rule match_videos:
    """MAXI's matching (Lin et al., ICCV 2023) of a clip shard: each video's 8 frames spread over it
    through the CLIP of an embedding of kind clip (its image tower, as the checkpoint gives it), their
    mean against every class's prompt ensemble; the cosines, to be matched to the kept classes at
    training. A GPU job when a run matching with it trains on GPUs."""
    input:
        unpack(lambda wc: plan.match_inputs(wc.embedding, wc.dataset, wc.shard)),
    output:
        "matches/{embedding}/{dataset}/{shard}.h5",
    log:
        "logs/match_videos/{embedding}/{dataset}/{shard}.log",
    benchmark:
        "logs/match_videos/{embedding}/{dataset}/{shard}.benchmark.tsv"
    conda:
        "../../envs/zsar.yaml"
    threads: config["extract"]["threads"]
    resources:
        gpu=lambda wc: plan.match_gpus(wc.embedding),
        mem_mb=config["extract"]["resources"]["mem_mb"],
        runtime=config["extract"]["resources"]["runtime"],
    params:
        embedding=lambda wc: plan.embedding(wc.embedding),
        short_side=lambda wc: plan.cache_settings(plan.match_cache(wc.embedding, wc.dataset))["short_side"],
        batch_size=config["extract"]["batch_size"],
        workers=config["extract"]["workers"],
    script:
        "../../workflow_scripts/match_videos.py"


rule merge_matches:
    """matches/{embedding}/{dataset}.h5: a dataset's matched shards in one file."""
    input:
        lambda wc: plan.shard_files("matches/{embedding}/{dataset}/{shard}.h5", wc.dataset, embedding=wc.embedding),
    output:
        "matches/{embedding}/{dataset}.h5",
    log:
        "logs/merge_matches/{embedding}/{dataset}.log",
    conda:
        "../../envs/zsar.yaml"
    script:
        "../../workflow_scripts/merge_matches.py"


rule parse_bags:
    """A language source of MAXI's text bags, parsed once (zsar/semantics/bags.py): phrases a language
    model wrote per class (kept, with their verb phrases and verbs) or frame captions per video (their
    verb phrases and verbs)."""
    input:
        lambda wc: plan.bag_file(wc.dataset, wc.source),
    output:
        "semantic/bags/{dataset}_{source}.tsv",
    log:
        "logs/parse_bags/{dataset}_{source}.log",
    wildcard_constraints:
        source="phrases|captions",
    conda:
        "../../envs/zsar.yaml"
    params:
        parser=config["descriptions"]["parser"],
        manifest=manifest_digest,
    script:
        "../../workflow_scripts/parse_bags.py"


rule simulate_language:
    """A rendered dataset's language sources for MAXI's text bags, as the renderer knows its videos
    (zsar/semantics/simulated_language.py): 5 phrases a class, as a language model would reword it,
    and captions of 4 frames a video, a share of them naming a wrong object."""
    input:
        f"{DATA}/{{dataset}}/annotations.csv",
    output:
        phrases=f"{DATA}/{{dataset}}/phrases.tsv",
        captions=f"{DATA}/{{dataset}}/captions.tsv",
    log:
        "logs/simulate_language/{dataset}.log",
    wildcard_constraints:
        dataset="|".join(RENDERED),
    conda:
        "../../envs/zsar.yaml"
    params:
        manifest=manifest_digest,
        error_rate=config["objects"]["synthetic_error_rate"],
        seed=config["synthetic"]["seed"],
    script:
        "../../workflow_scripts/simulate_language.py"


rule pretrain_clip:
    """The embedded world's stand-in for a web-pretrained CLIP (zsar/models/pretrain_clip.py): an
    open_clip model trained from scratch on rendered frames and captions of what each shows, no
    motion named; an embedding of kind clip names it by its path, pretrained/{name}.pt."""
    output:
        "pretrained/{name}.pt",
    log:
        "logs/pretrain_clip/{name}.log",
    benchmark:
        "logs/pretrain_clip/{name}.benchmark.tsv"
    conda:
        "../../envs/zsar.yaml"
    threads: 2
    params:
        settings=lambda wc: plan.pretraining(wc.name),
        size=config["synthetic"]["size"],
    script:
        "../../workflow_scripts/pretrain_clip.py"
