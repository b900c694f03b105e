"""Body sites in words: human names, grouped choices for pickers, and typed names matched to
the controlled selectors of :mod:`stimwise.protocol.body_sites`.

A page never shows ``left_hand_dorsal``; it shows "Left hand, back". A clinician may type "R hand",
"left lower back" or "both feet"; :func:`find_sites` turns that into selectors (``right_hand``,
``left_lower_back``, ``left_foot`` + ``right_foot``) or, when the words could mean more than one
place ("hand" without a side, "back"), refuses with suggestions instead of guessing: a wrongly
guessed side would put a contraindication, or an electrode, on the wrong limb.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

from stimwise.errors import FieldProblem, InputError
from stimwise.protocol.body_sites import (
    LIMB_SEGMENTS,
    MIDLINE_REGIONS,
    NECK_ASPECTS,
    PAIRED_REGIONS,
    SELECTOR_NAMES,
    SIDES,
    expand_sites,
    region_group,
)

# --------------------------------------------------------------------------- names

REGION_NAMES: dict[str, str] = {
    "head": "head",
    "face": "face",
    "eye": "eye",
    "neck_anterior": "front of neck",
    "neck_posterior": "back of neck",
    "chest": "chest",
    "upper_back": "upper back",
    "abdomen": "abdomen",
    "lower_back": "lower back",
    "buttock": "buttock",
    "hip": "hip",
    "shoulder": "shoulder",
    "upper_arm_anterior": "upper arm, front",
    "upper_arm_posterior": "upper arm, back",
    "elbow": "elbow",
    "forearm_volar": "forearm, palm side",
    "forearm_dorsal": "forearm, back",
    "wrist": "wrist",
    "hand_dorsal": "hand, back",
    "hand_palmar": "palm",
    "fingers": "fingers",
    "thigh_anterior": "thigh, front",
    "thigh_posterior": "thigh, back",
    "knee": "knee",
    "leg_anterior": "shin",
    "calf": "calf",
    "ankle": "ankle",
    "foot_dorsal": "foot, top",
    "foot_plantar": "sole of foot",
    "toes": "toes",
}
"""Words for each paired region (the part of a site name after its side)."""

MIDLINE_NAMES: dict[str, str] = {
    "cervical_midline": "Back of neck, midline (cervical spine)",
    "thoracic_midline": "Upper back, midline (thoracic spine)",
    "lumbar_midline": "Lower back, midline (lumbar spine)",
    "sacral_midline": "Sacrum, midline",
    "lower_abdomen_midline": "Lower abdomen, midline",
}

SEGMENT_NAMES: dict[str, str] = {
    "upper_arm": "upper arm",
    "forearm": "forearm",
    "hand": "hand",
    "thigh": "thigh",
    "leg": "lower leg",
    "foot": "foot",
}
LIMB_NAMES: dict[str, str] = {"upper_limb": "arm", "lower_limb": "leg"}

REGION_SELECTOR_NAMES: dict[str, str] = {
    "head": "Head",
    "neck": "Neck",
    "neck_anterior": "Front of neck",
    "neck_posterior": "Back of neck",
    "thorax": "Chest and upper back (thorax)",
    "abdomen": "Abdomen",
    "lumbar": "Lower back",
    "pelvis": "Pelvis, hips and buttocks",
    "trunk": "Trunk",
    "whole_body": "Whole body",
}
"""Selectors that cover both sides of the body."""

GROUP_NAMES: dict[str, str] = {
    "head": "Head",
    "neck": "Neck",
    "thorax": "Chest and upper back",
    "abdomen": "Abdomen",
    "lumbar": "Lower back",
    "pelvis": "Pelvis, hips and buttocks",
    "upper_limb": "Arms",
    "lower_limb": "Legs",
    "larger_areas": "Larger areas",
}
"""Headings of the picker groups (:func:`site_choice_groups`), in body order."""

SideWord = Literal["left", "right", "both", "midline"]
SelectorKind = Literal["site", "segment", "limb", "region"]


def _sided(side: str, words: str) -> str:
    return f"{side.capitalize()} {words}"


def _split_side(selector: str) -> tuple[str | None, str]:
    side, _, rest = selector.partition("_")
    return (side, rest) if side in SIDES and rest else (None, selector)


def selector_kind(selector: str) -> SelectorKind:
    """Whether a selector names one site, a limb segment, a whole limb or a region."""
    side, rest = _split_side(selector)
    if (side is not None and rest in PAIRED_REGIONS) or selector in MIDLINE_REGIONS:
        return "site"
    if side is not None and rest in LIMB_SEGMENTS:
        return "segment"
    if side is not None and rest in LIMB_NAMES:
        return "limb"
    return "region"


def site_label(selector: str) -> str:
    """The human name of a site selector (``left_hand_dorsal`` → "Left hand, back",
    ``left_foot`` → "Left foot (whole)", ``lumbar`` → "Lower back").

    Raises ``KeyError`` for a name that is not a selector.
    """
    if selector not in SELECTOR_NAMES:
        raise KeyError(selector)
    if selector in MIDLINE_NAMES:
        return MIDLINE_NAMES[selector]
    if selector in REGION_SELECTOR_NAMES:
        return REGION_SELECTOR_NAMES[selector]
    side, rest = _split_side(selector)
    assert side is not None
    if rest in REGION_NAMES:
        return _sided(side, REGION_NAMES[rest])
    whole = SEGMENT_NAMES.get(rest) or LIMB_NAMES[rest]
    return _sided(side, f"{whole} (whole)")


def site_words(selector: str) -> str:
    """A site in running text ("left hand, back"); a name that is not a selector keeps its
    words ("lower_back" -> "lower back"), so a message never shows a machine name."""
    try:
        label = site_label(selector)
    except KeyError:
        return selector.replace("_", " ")
    return label[:1].lower() + label[1:]


def sites_words(selectors) -> str:
    """Several sites in running text, comma-separated, in the order given."""
    return ", ".join(site_words(s) for s in selectors)


# --------------------------------------------------------------------------- picker groups


@dataclass(frozen=True)
class SiteChoice:
    """One option of a site picker: the selector to store and the words to show."""

    selector: str
    label: str
    side: SideWord
    kind: SelectorKind
    sites: tuple[str, ...]
    """The individual sites the selector covers (for highlighting on the body map)."""


@dataclass(frozen=True)
class SiteGroup:
    """A heading of the picker (a body region) and its options: whole regions first, then per
    side the whole limb, its segments and its sites, proximal to distal."""

    id: str
    label: str
    choices: tuple[SiteChoice, ...]


def _choice(selector: str) -> SiteChoice:
    side, _ = _split_side(selector)
    if side is None:
        side = "midline" if selector in MIDLINE_REGIONS else "both"
    return SiteChoice(selector=selector, label=site_label(selector), side=side,
                      kind=selector_kind(selector), sites=tuple(sorted(expand_sites(selector))))


_REGION_ORDER = tuple(PAIRED_REGIONS)
_GROUP_ORDER = tuple(g for g in GROUP_NAMES if g != "larger_areas")


def _group_of_selector(selector: str) -> str:
    if selector in ("trunk", "whole_body"):
        return "larger_areas"
    if selector in NECK_ASPECTS or selector in GROUP_NAMES:
        return "neck" if selector in NECK_ASPECTS else selector
    side, rest = _split_side(selector)
    if rest in LIMB_NAMES:
        return rest
    if rest in LIMB_SEGMENTS:
        return region_group(f"{side}_{LIMB_SEGMENTS[rest][0]}")
    return region_group(selector)


def _order_key(selector: str) -> tuple:
    """Side-less selectors first; then per side the limb, and its segments and sites from
    proximal to distal (a segment just before its first site)."""
    side, rest = _split_side(selector)
    side_rank = {None: 0, "left": 1, "right": 2}[side]
    if rest in LIMB_SEGMENTS:
        position = _REGION_ORDER.index(LIMB_SEGMENTS[rest][0]) - 0.5
    elif rest in PAIRED_REGIONS:
        position = _REGION_ORDER.index(rest)
    else:
        position = -1.0
    return (side_rank, selector_kind(selector) != "region", position, selector)


def site_choice_groups() -> tuple[SiteGroup, ...]:
    """Every selector, grouped by body region for a picker ("side, region, site").

    Each selector appears in exactly one group; the groups follow the body from head to feet,
    ending with the larger areas (trunk, whole body).
    """
    grouped: dict[str, list[str]] = {g: [] for g in GROUP_NAMES}
    for selector in SELECTOR_NAMES:
        grouped[_group_of_selector(selector)].append(selector)
    return tuple(
        SiteGroup(id=g, label=GROUP_NAMES[g],
                  choices=tuple(_choice(s) for s in sorted(grouped[g], key=_order_key)))
        for g in (*_GROUP_ORDER, "larger_areas")
    )


# --------------------------------------------------------------------------- matching typed names


@dataclass(frozen=True)
class _Concept:
    """What a phrase names: the region suffixes it means with a side, and the side-less
    selectors it means without one."""

    sided: tuple[str, ...] = ()
    unsided: tuple[str, ...] = ()


_SIDE_WORDS = {
    "left": "left", "l": "left", "lt": "left", "lft": "left",
    "right": "right", "r": "right", "rt": "right", "rgt": "right",
    "both": "both", "bilateral": "both", "bilat": "both",
}
_STOPWORDS = frozenset({"the", "of", "on", "a", "an", "my", "his", "her", "their", "and", "at"})
_PLURALS = {
    "feet": "foot", "hands": "hand", "legs": "leg", "arms": "arm", "calves": "calf",
    "knees": "knee", "ankles": "ankle", "wrists": "wrist", "elbows": "elbow",
    "shoulders": "shoulder", "hips": "hip", "buttocks": "buttock", "thighs": "thigh",
    "forearms": "forearm", "shins": "shin", "soles": "sole", "palms": "palm", "finger": "fingers",
    "toe": "toes", "eyes": "eye", "sides": "side",
}

_SYNONYMS: dict[str, _Concept] = {
    # limbs and segments in everyday words
    "arm": _Concept(sided=("upper_limb",)),
    "whole arm": _Concept(sided=("upper_limb",)),
    "upper limb": _Concept(sided=("upper_limb",)),
    "leg": _Concept(sided=("lower_limb", "leg")),  # whole leg or lower leg: ask
    "whole leg": _Concept(sided=("lower_limb",)),
    "lower limb": _Concept(sided=("lower_limb",)),
    "lower leg": _Concept(sided=("leg",)),
    "hand": _Concept(sided=("hand",)),
    "foot": _Concept(sided=("foot",)),
    "forearm": _Concept(sided=("forearm",)),
    "upper arm": _Concept(sided=("upper_arm",)),
    "thigh": _Concept(sided=("thigh",)),
    # sites by other names
    "back hand": _Concept(sided=("hand_dorsal",)),
    "dorsum hand": _Concept(sided=("hand_dorsal",)),
    "palm": _Concept(sided=("hand_palmar",)),
    "palm hand": _Concept(sided=("hand_palmar",)),
    "top foot": _Concept(sided=("foot_dorsal",)),
    "dorsum foot": _Concept(sided=("foot_dorsal",)),
    "sole": _Concept(sided=("foot_plantar",)),
    "sole foot": _Concept(sided=("foot_plantar",)),
    "shin": _Concept(sided=("leg_anterior",)),
    "front lower leg": _Concept(sided=("leg_anterior",)),
    "front thigh": _Concept(sided=("thigh_anterior",)),
    "anterior thigh": _Concept(sided=("thigh_anterior",)),
    "back thigh": _Concept(sided=("thigh_posterior",)),
    "posterior thigh": _Concept(sided=("thigh_posterior",)),
    "hamstring": _Concept(sided=("thigh_posterior",)),
    "front upper arm": _Concept(sided=("upper_arm_anterior",)),
    "biceps": _Concept(sided=("upper_arm_anterior",)),
    "back upper arm": _Concept(sided=("upper_arm_posterior",)),
    "triceps": _Concept(sided=("upper_arm_posterior",)),
    "volar forearm": _Concept(sided=("forearm_volar",)),
    "inner forearm": _Concept(sided=("forearm_volar",)),
    "front forearm": _Concept(sided=("forearm_volar",)),
    "back forearm": _Concept(sided=("forearm_dorsal",)),
    "dorsal forearm": _Concept(sided=("forearm_dorsal",)),
    "outer forearm": _Concept(sided=("forearm_dorsal",)),
    "bottom": _Concept(sided=("buttock",)),
    "gluteal": _Concept(sided=("buttock",)),
    "belly": _Concept(sided=("abdomen",), unsided=("abdomen",)),
    "tummy": _Concept(sided=("abdomen",), unsided=("abdomen",)),
    "stomach": _Concept(sided=("abdomen",), unsided=("abdomen",)),
    # the neck and the back, where the side-less words name a region
    "neck": _Concept(sided=("neck_anterior", "neck_posterior"), unsided=("neck",)),
    "front neck": _Concept(sided=("neck_anterior",), unsided=("neck_anterior",)),
    "anterior neck": _Concept(sided=("neck_anterior",), unsided=("neck_anterior",)),
    "throat": _Concept(sided=("neck_anterior",), unsided=("neck_anterior",)),
    "back neck": _Concept(sided=("neck_posterior",), unsided=("neck_posterior",)),
    "posterior neck": _Concept(sided=("neck_posterior",), unsided=("neck_posterior",)),
    "nape": _Concept(sided=("neck_posterior",), unsided=("neck_posterior",)),
    "back": _Concept(sided=("upper_back", "lower_back")),
    "low back": _Concept(sided=("lower_back",), unsided=("lumbar",)),
    "lower back": _Concept(sided=("lower_back",), unsided=("lumbar",)),
    "upper back": _Concept(sided=("upper_back",)),
    "shoulder blade": _Concept(sided=("upper_back",)),
    "scapula": _Concept(sided=("upper_back",)),
    "spine": _Concept(unsided=tuple(MIDLINE_NAMES)[:4]),
    "cervical spine": _Concept(unsided=("cervical_midline",)),
    "thoracic spine": _Concept(unsided=("thoracic_midline",)),
    "lumbar spine": _Concept(unsided=("lumbar_midline",)),
    "sacrum": _Concept(unsided=("sacral_midline",)),
    "lower abdomen": _Concept(unsided=("lower_abdomen_midline",)),
    "head": _Concept(sided=("head",), unsided=("head",)),
    "chest": _Concept(sided=("chest",)),
}


def _tokens(text: str) -> list[str]:
    words = re.sub(r"[^a-z0-9 ]", " ", text.lower().replace("_", " ").replace("-", " ")).split()
    return [_PLURALS.get(w, w) for w in words if w not in _STOPWORDS]


def _key(words) -> frozenset[str]:
    return frozenset(w for w in words if w not in ("side", "aspect", "surface", "area", "region"))


def _build_concepts() -> dict[frozenset[str], _Concept]:
    concepts: dict[frozenset[str], _Concept] = {}

    def add(phrase: str, concept: _Concept) -> None:
        key = _key(_tokens(phrase))
        old = concepts.get(key)
        if old is None:
            concepts[key] = concept
        else:  # two names for one phrase: keep every meaning, so that it reads as ambiguous
            concepts[key] = _Concept(
                sided=tuple(dict.fromkeys((*old.sided, *concept.sided))),
                unsided=tuple(dict.fromkeys((*old.unsided, *concept.unsided))),
            )

    for region, words in REGION_NAMES.items():
        for phrase in {region, words}:
            add(phrase, _Concept(sided=(region,)))
    for segment, words in SEGMENT_NAMES.items():
        add(segment, _Concept(sided=(segment,)))
        add(words, _Concept(sided=(segment,)))
    for selector, words in (*MIDLINE_NAMES.items(), *REGION_SELECTOR_NAMES.items()):
        add(selector, _Concept(unsided=(selector,)))
        add(words.split(" (")[0], _Concept(unsided=(selector,)))
    for phrase, concept in _SYNONYMS.items():
        concepts[_key(_tokens(phrase))] = concept
    return concepts


_CONCEPTS = _build_concepts()
_PHRASES = {" ".join(sorted(key)): key for key in _CONCEPTS}


@dataclass(frozen=True)
class SiteMatch:
    """The outcome of reading one typed place name.

    ``selectors`` holds the match (two selectors for "both feet"); when it is empty, ``problem``
    says why in words and ``suggestions`` lists selectors the person may have meant.
    """

    text: str
    selectors: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()
    problem: str | None = None

    @property
    def matched(self) -> bool:
        return bool(self.selectors)


@cache
def _selector_of_label() -> dict[str, str]:
    """Each selector by its own words in lower case (a page's suggestion list offers these
    words, so choosing one must match exactly the selector it names)."""
    return {site_label(s).lower(): s for s in SELECTOR_NAMES}


def _with_side(side: str, suffixes: tuple[str, ...]) -> tuple[str, ...]:
    if side == "both":
        return tuple(f"{s}_{suffix}" for suffix in suffixes for s in SIDES)
    return tuple(f"{side}_{suffix}" for suffix in suffixes)


def _near_miss(text: str, words: list[str], side: str | None) -> SiteMatch:
    phrase = " ".join(sorted(_key(words)))
    close = difflib.get_close_matches(phrase, _PHRASES, n=4, cutoff=0.6)
    suggestions: list[str] = []
    for found in close:
        concept = _CONCEPTS[_PHRASES[found]]
        if side in ("left", "right") and concept.sided:
            suggestions += _with_side(side, concept.sided)
        elif side is None:
            suggestions += concept.unsided or _with_side("left", concept.sided)[:1]
    suggestions = [s for s in dict.fromkeys(suggestions) if s in SELECTOR_NAMES]
    return SiteMatch(text, suggestions=tuple(suggestions[:5]),
                     problem=f"no body site is called {text!r}")


def find_sites(text: str) -> SiteMatch:
    """Read one typed place name ("right hand", "R hand", "left lower back", "both feet",
    "left_calf") as site selectors, without raising.

    A side may be written anywhere in the phrase (left, l, lt, right, r, rt, both, bilateral);
    word order, plurals and the words "of", "the", "side" do not matter. A phrase that names
    more than one place, or a one-sided place without its side, is not matched: ``problem``
    says so and ``suggestions`` lists the candidates.
    """
    raw = text.strip()
    if raw.lower() in SELECTOR_NAMES:  # written as a selector id (``left_calf``)
        return SiteMatch(raw, selectors=(raw.lower(),))
    labelled = _selector_of_label().get(" ".join(raw.lower().split()))
    if labelled is not None:  # written as a page shows it ("Left foot (whole)")
        return SiteMatch(raw, selectors=(labelled,))
    words = _tokens(raw)
    sides = {_SIDE_WORDS[w] for w in words if w in _SIDE_WORDS}
    rest = [w for w in words if w not in _SIDE_WORDS]
    if not rest:
        return SiteMatch(raw, problem="a body site is needed (e.g. 'left hand')")
    if len(sides) > 1:
        return SiteMatch(raw, problem=f"{raw!r} names more than one side; write one place at a "
                         "time, or 'both' for the two sides")
    side = next(iter(sides), None)
    concept = _CONCEPTS.get(_key(rest))
    if concept is None:
        return _near_miss(raw, rest, side)
    if side is None:
        if len(concept.unsided) == 1:
            return SiteMatch(raw, selectors=concept.unsided)
        if concept.unsided:
            return SiteMatch(raw, suggestions=concept.unsided[:6],
                             problem=f"{raw!r} could mean several places: choose one")
        return SiteMatch(raw, suggestions=_with_side("both", concept.sided)[:6],
                         problem=f"{raw!r} does not say which side (left, right or both)")
    if not concept.sided:
        return SiteMatch(raw, suggestions=concept.unsided[:6],
                         problem=f"{raw!r}: this place has no left and right side")
    if len(concept.sided) > 1:
        return SiteMatch(raw, suggestions=_with_side(side, concept.sided)[:6],
                         problem=f"{raw!r} could mean several places: choose one")
    return SiteMatch(raw, selectors=_with_side(side, concept.sided))


def _problem(match: SiteMatch, path: str, expected_extra: str = "") -> FieldProblem:
    hint = ""
    if match.suggestions:
        hint = "; did you mean " + " or ".join(
            f"{site_label(s)} ({s})" for s in match.suggestions)
    return FieldProblem(path, match.text,
                        f"a body site in words, e.g. 'left hand' or 'R calf' "
                        f"({match.problem}{hint}){expected_extra}")


def match_site(text: str, path: str = "site") -> str:
    """The one selector a typed name means.

    Raises
    ------
    InputError
        At ``path`` when the name matches nothing, is ambiguous, misses its side, or names
        both sides ("both feet" is two places: use :func:`match_sites`).
    """
    match = find_sites(text)
    if len(match.selectors) == 1:
        return match.selectors[0]
    if match.selectors:
        match = SiteMatch(match.text, suggestions=match.selectors,
                          problem=f"{match.text!r} names two places; one is needed here")
    raise InputError(_problem(match, path))


def find_each_site(text: str) -> tuple[SiteMatch, ...]:
    """Each place of a typed list ("left hand, R wrist; both feet"), read by :func:`find_sites`
    without raising; the names may be separated by commas, semicolons, "and" or new lines. Text
    that is one place's whole label ("Left hand, back") is that one place."""
    whole = find_sites(text)
    if whole.matched and _selector_of_label().get(" ".join(text.lower().split())):
        return (whole,)
    return tuple(find_sites(p) for p in re.split(r"[,;\n]|\band\b", text) if p.strip())


def match_sites(text: str, path: str = "sites") -> tuple[str, ...]:
    """Every selector of a typed list ("left hand, R wrist; both feet"), in order, without
    repeats; the names may be separated by commas, semicolons, "and" or new lines.

    Raises
    ------
    InputError
        Naming each part that could not be matched (all of them at once).
    """
    matches = find_each_site(text)
    found: list[str] = []
    problems = []
    for index, match in enumerate(matches):
        if match.matched:
            found += match.selectors
        else:
            problems.append(_problem(match, f"{path}.{index}" if len(matches) > 1 else path))
    if problems:
        raise InputError(problems)
    return tuple(dict.fromkeys(found))
