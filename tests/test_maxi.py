"""MAXI: text bags from the language sources, the most confident matches kept, the bag loss, and
training from a matches file without reading a label."""

import numpy as np
import pandas as pd
import pytest
import torch

from test_clip import tiny_checkpoint  # noqa: F401  (a fixture)
from test_training import CLASSES, arguments, videos  # noqa: F401  (videos: the synthetic world, a fixture)
from zsar.semantics.bags import TextBags, keep_most_confident, parse_texts, read_parsed, with_forms, write_parsed


@pytest.fixture(scope="module")
def parser():
    from zsar.semantics.atomic import load_parser

    return load_parser()


def test_phrases_keep_their_text_and_add_verb_phrases_and_verbs_captions_only_their_verbs(parser, tmp_path):
    phrases = parse_texts([("applying cream", "smearing cream"), ("applying cream", "rubbing the cream in")],
                          parser, keep_text=True)
    assert list(phrases.itertuples(index=False, name=None))[:3] == [
        ("applying cream", "smearing cream", "phrase"), ("applying cream", "smear cream", "verb_phrase"),
        ("applying cream", "smear", "verb")]
    captions = parse_texts([("v1", "a woman covering her face with her hands"), ("v1", "a ball on a wooden floor")],
                           parser, keep_text=False)
    assert captions["text"].tolist() == ["cover face", "cover"]  # a caption without a verb adds nothing
    write_parsed(tmp_path / "captions.tsv", captions)
    assert read_parsed(tmp_path / "captions.tsv") == {"v1": [("cover face", "verb_phrase"), ("cover", "verb")]}


def test_verb_forms_add_the_lemma_and_gerund_of_parsed_verbs_only():
    texts = [("spread cream", "verb_phrase"), ("clapping", "verb"), ("ball falling", "name")]
    assert with_forms(texts) == ["spread cream", "clapping", "ball falling", "spreading cream", "clap"]


def test_the_most_confident_share_of_each_matched_names_videos_is_kept():
    matched = np.array(["a", "a", "a", "a", "b", "b", "b"], dtype=object)
    confidence = np.array([0.1, 0.9, 0.5, 0.7, 0.3, 0.2, 0.8])
    # ceil(p x n): 2 of 4, 2 of 3
    assert keep_most_confident(matched, confidence, 0.5).tolist() == [False, True, False, True, True, False, True]
    assert keep_most_confident(matched, confidence, 1.0).all()


def bags_of(scores, **model):
    classes = ["ball falling", "box spinning", "ring growing"]
    bags = TextBags(["v0", "v1", "v2", "v3"], ["ball falling", "box spinning", "ring growing", "box spinning"],
                    classes, classes, np.asarray(scores, dtype=np.float32),
                    phrases={"box spinning": [("turning the box", "phrase"), ("turn box", "verb_phrase")]},
                    captions={"v1": [("hold box", "verb_phrase")]})
    model = {"p": 1.0, "bags": ["phrases", "captions"], "verb_forms": False, "arch": "zsar-tiny",
             "prompt": "a photo of {action}, {text}.", **model}
    return bags, model


def test_videos_are_matched_to_the_kept_classes_only_and_bags_follow_the_switches():
    # v0 is nearest the ball class, which the overlap filter removed: it goes to its next nearest.
    scores = [[0.9, 0.5, 0.1], [0.1, 0.8, 0.2], [0.1, 0.2, 0.7], [0.2, 0.3, 0.25]]
    bags, model = bags_of(scores)
    kept, line = bags.select(["box spinning", "ring growing"], ["v0", "v1", "v2", "v3"], model)
    assert kept == ["v0", "v1", "v2", "v3"] and bags.matched["v0"] == "box spinning"
    assert bags.bags["v1"] == ["box spinning", "turning the box", "turn box", "hold box"]
    assert bags.bags["v2"] == ["ring growing"]  # no phrases for it, no captions of v2
    assert "matched their (unread) label" in line and bags.report["matched_right"] == 3
    assert bags.prompts("v2") == ["a photo of ring growing, ring growing."]
    sample = bags.of("v1")
    assert sample["bag"].shape == (4, 77) and sample["bag_size"] == 4 and not sample["bag"][3:].any() is False
    assert not sample["bag"][:4].sum(axis=1).min() == 0
    bags, model = bags_of(scores, bags=[], verb_forms=True)
    bags.select(["box spinning", "ring growing"], ["v1"], model)
    assert bags.bags["v1"] == ["box spinning"]
    bags, model = bags_of(scores, bags=["captions"])
    with pytest.raises(ValueError, match="none of the 1 training videos has captions .first: 'v3'; the captions file's "
                                         "first: 'v1'.: its first column must be the video_id"):
        bags.select(["box spinning", "ring growing"], ["v3"], model)
    bags, model = bags_of(scores, p=0.5)  # 3 videos matched to box spinning: 2 kept, the most confident
    kept, _ = bags.select(["box spinning", "ring growing"], ["v0", "v1", "v2", "v3"], model)
    assert sorted(kept) == ["v0", "v1", "v2"]


def test_the_bag_loss_reads_no_label_and_trains_both_towers(tiny_checkpoint):
    from zsar.methods.maxi.model import _BagLoss
    from zsar.methods.vificlip.model import VideoTextCLIP
    from zsar.models.clip import load_clip, tokenize

    clip = load_clip("zsar-tiny", tiny_checkpoint)
    net = VideoTextCLIP(clip, "zsar-tiny", 64)
    loss_module = _BagLoss(net, n_bag=2)
    bag = torch.zeros(3, 3, 77, dtype=torch.int32)
    for k, texts in enumerate([["a photo of a", "b"], ["c", "d", "e"], ["f"]]):
        bag[k, :len(texts)] = tokenize("zsar-tiny", texts)
    sizes = torch.tensor([2, 3, 1])
    clips = torch.rand(3, 3, 2, 32, 32) * 2 - 1
    torch.manual_seed(0)
    loss = loss_module(clips, torch.tensor([0, 1, 2]), bag, sizes)
    torch.manual_seed(0)
    assert torch.equal(loss, loss_module(clips, torch.tensor([2, 2, 2]), bag, sizes))  # labels unread
    loss.backward()
    assert net.clip.visual.conv1.weight.grad.abs().sum() > 0 and net.clip.token_embedding.weight.grad.abs().sum() > 0
    assert torch.isfinite(loss) and 0 <= int(loss_module.batch_correct) <= 3


def test_maxi_trains_on_its_confident_matches_and_keeps_the_last_epoch(tiny_checkpoint, videos, tmp_path):
    from zsar.semantics.bags import write_matches
    from zsar.models.training import train

    names = [c[0] for c in CLASSES]
    rng = np.random.default_rng(0)
    scores = rng.uniform(0, 0.3, size=(len(videos), 3))
    scores[np.arange(len(videos)), [names.index(label) for label in videos["label"]]] += 0.5  # all matched right
    write_matches(tmp_path / "matches.h5", videos["video_id"], videos["label"], names, names, scores, "x")
    write_parsed(tmp_path / "captions.tsv", pd.DataFrame(
        [(v, "move object", "verb_phrase") for v in videos["video_id"]], columns=["key", "text", "kind"]))
    args = arguments(videos, tmp_path, "e2e")
    args.update(method="maxi", model_cfg={"arch": "zsar-tiny", "checkpoint": str(tiny_checkpoint), "p": 0.5,
                                          "match_embedding": "m", "bags": ["captions"], "n_bag": 2},
                train_cfg={"epochs": 2, "batch_size": 4, "lr": 1e-4},
                sampling={"frames": 2, "stride": 2, "crop": 28, "test_clips": 1},
                video_files={"matches": tmp_path / "matches.h5", "captions": tmp_path / "captions.tsv"})
    args["semantics"] = {"class_tokens": [[f"a photo of {n}."] for n in names]}
    lines = []
    train(**args, log=lines.append)
    history = pd.read_csv(tmp_path / "history.csv")
    assert history["epoch"].tolist() == [1, 2]
    assert torch.load(tmp_path / "model.pt", weights_only=True)["epoch"] == 2  # the last, whatever val says
    n_train = int((videos["split"] == "train").sum())
    assert history["clips"].tolist() == [n_train // 2] * 2  # half of each name's videos (8 a class, p 0.5)
    assert any("matched their (unread) label" in line for line in lines)


def test_the_simulated_language_rewords_motions_and_captions_name_none():
    from zsar.data.synthetic import MOTIONS, OBJECTS
    from zsar.semantics.simulated_language import class_phrases, frame_captions

    classes = [{"name": "ball falling", "object": "ball", "motion": "falling"},
               {"name": "box then", "object": "box", "motions": ["spinning", "rolling"]}]
    phrases = class_phrases(classes)
    assert len(phrases) == 10 and ("ball falling", "dropping the ball") in phrases
    videos = [(f"v{k}", classes[k % 2]["name"]) for k in range(20)]
    captions = frame_captions(videos, {c["name"]: c for c in classes}, list(OBJECTS), error_rate=0.2, seed=0)
    assert len(captions) == 80 and captions == frame_captions(videos[::-1][::-1], {c["name"]: c for c in classes},
                                                             list(OBJECTS), error_rate=0.2, seed=0)
    assert not [text for _, text in captions if any(motion in text.split() for motion in MOTIONS)]
    wrong = sum(classes[int(v[1:]) % 2]["object"] not in text and "empty" not in text for v, text in captions)
    assert 0 < wrong < 40  # a share names another object


def test_the_stand_in_clip_never_sees_a_target_class_named_and_trains(tmp_path):
    from zsar.models.clip import check_checkpoint
    from zsar.models.pretrain_clip import pretrain, pretraining_pairs

    excluded = {("star", "spinning"), ("ball", "bouncing")}
    frames, captions = pretraining_pairs(400, 32, 0, excluded)
    assert frames.shape == (400, 32, 32, 3) and frames.dtype == np.uint8
    assert not [c for c in captions if "star spinning" in c or "ball bouncing" in c]
    assert any(" falling " in c for c in captions) and any(c.startswith("a ") and " star " in c for c in captions)
    state = pretrain("zsar-tiny", frames[:64], captions[:64], epochs=1, batch_size=32, lr=1e-3, seed=0, log=lambda m: None)
    torch.save(state, tmp_path / "standin.pt")
    check_checkpoint("zsar-tiny", tmp_path / "standin.pt")  # loads as the user's checkpoint would


def test_a_language_source_file_skips_comments_and_a_header_and_names_a_bad_line(tmp_path):
    from zsar.semantics.bags import read_pairs

    path = tmp_path / "phrases.tsv"
    path.write_text("# from a language model\nclass\tphrase\nball falling\tdropping the ball\n")
    assert read_pairs(path, "phrases", "class", "phrase") == [("ball falling", "dropping the ball")]
    path.write_text("ball falling\tdropping the ball\nball falling dropping it\n")
    with pytest.raises(ValueError, match=r"phrases.tsv, line 2: expected class<TAB>phrase"):
        read_pairs(path, "phrases", "class", "phrase")
