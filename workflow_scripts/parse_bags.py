import sys

sys.stderr = open(snakemake.log[0], "w", buffering=1)

from zsar.data.manifest import class_names, load_manifest, workflow_manifests
from zsar.semantics.atomic import load_parser
from zsar.semantics.bags import parse_texts, read_pairs, write_parsed

source, path = snakemake.wildcards.source, snakemake.input[0]
if source == "phrases":
    rows = read_pairs(path, "phrases a language model wrote for each class name", "class", "phrase")
    manifest = load_manifest(snakemake.wildcards.dataset, workflow_manifests(snakemake.scriptdir),
                             snakemake.config["data_root"])
    names = set(class_names(manifest))
    unknown = sorted({key for key, _ in rows} - names)
    if unknown:
        raise SystemExit(f"{path}: {len(unknown)} class names that {snakemake.wildcards.dataset} does not have, e.g. "
                         f"{unknown[:3]}; the first column must be the manifest's class names")
    missing = sorted(names - {key for key, _ in rows})
    if missing:
        print(f"warning: {len(missing)} classes have no phrases, e.g. {missing[:3]}", file=sys.stderr)
else:
    rows = read_pairs(path, "a captioner's captions of frames of each video", "video_id", "caption")
table = parse_texts(rows, load_parser(snakemake.params.parser), keep_text=source == "phrases")
write_parsed(snakemake.output[0], table)
counts = table["kind"].value_counts().to_dict()
print(f"{len(rows)} {source} of {table['key'].nunique()} {'classes' if source == 'phrases' else 'videos'}: "
      f"{len(table)} bag texts ({counts})", file=sys.stderr)
