"""Each translation has every string of strings.json, its placeholders, no English."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INTEGRATION = ROOT / "custom_components" / "lithium_bms"

LANGUAGES = ("de", "nl", "fr", "es", "it", "pl", "pt", "cs")
LANGUAGE_NAMES = {
    "de": "German",
    "nl": "Dutch",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pl": "Polish",
    "pt": "Portuguese",
    "cs": "Czech",
}

PLACEHOLDER = re.compile(r"\{(\w+)\}")
KEY_REFERENCE = re.compile(r"\[%key:[^%\]]+%\]")
CODE_SPAN = re.compile(r"`[^`]*`")

ALL = frozenset(LANGUAGES)
# English values a translation may keep unchanged: the languages allowed, and why.
SAME_AS_ENGLISH: dict[str, tuple[frozenset[str], str]] = {
    "{name}": (ALL, "a bare placeholder: the flow title is the device's name"),
    "LiFePO₄ (LFP)": (ALL, "a chemical formula and its abbreviation"),
    "NMC / Li-ion": (ALL, "cell chemistry abbreviations"),
    "Password": (
        frozenset({"it"}),
        "Italian uses the English word, as HA's Italian does",
    ),
    "Name": (frozenset({"de"}), "the German word is the same, as in HA's German"),
    "Interface": (
        frozenset({"fr", "nl", "pt"}),
        "python-can's interface: the same word, used by each language's other strings",
    ),
    "Balancer": (
        frozenset({"de", "nl"}),
        "the German and Dutch battery term (HA's German: Balancer-Status)",
    ),
}

# Words that mark an untranslated English sentence; none is a word in LANGUAGES.
ENGLISH_WORDS = (
    "the",
    "and",
    "your",
    "with",
    "please",
    "device",
    "devices",
    "that",
    "this",
    "which",
    "when",
    "cannot",
    "could",
    "been",
    "from",
    "only",
    "every",
    "connection",
    "battery",
)
ENGLISH_WORD = re.compile(rf"\b({'|'.join(ENGLISH_WORDS)})\b", re.IGNORECASE)


def _flatten(tree: object, path: str = "") -> dict[str, object]:
    """Map each leaf's dotted key path to its value."""
    if not isinstance(tree, dict):
        return {path: tree}
    leaves: dict[str, object] = {}
    for key, value in tree.items():
        leaves.update(_flatten(value, f"{path}.{key}" if path else key))
    return leaves


def _load(name: str) -> dict[str, object]:
    return _flatten(json.loads((INTEGRATION / name).read_text(encoding="utf-8")))


ENGLISH = _load("strings.json")


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def translated(language: str) -> dict[str, object]:
    """The language's strings, flattened; the file must exist and be valid JSON."""
    path = INTEGRATION / "translations" / f"{language}.json"
    assert path.is_file(), f"missing {path.relative_to(ROOT)}"
    return _load(f"translations/{language}.json")


def test_same_key_paths(translated: dict[str, object]) -> None:
    """The translation has exactly the key paths of strings.json, each a string."""
    missing = sorted(ENGLISH.keys() - translated.keys())
    extra = sorted(translated.keys() - ENGLISH.keys())
    assert (missing, extra) == ([], []), f"missing: {missing}; extra: {extra}"
    not_text = [
        path for path, value in translated.items() if not isinstance(value, str)
    ]
    assert not not_text, f"not a string: {not_text}"
    empty = [path for path, value in translated.items() if not str(value).strip()]
    assert not empty, f"empty: {empty}"


def test_same_placeholders(translated: dict[str, object]) -> None:
    """Each string keeps English's placeholders, key references and `code` spans.

    Each as often as English has it: a dropped second `{address}` is caught.
    """
    wrong = []
    for path, english in ENGLISH.items():
        text = translated.get(path)
        if not isinstance(english, str) or not isinstance(text, str):
            continue
        for pattern in (PLACEHOLDER, KEY_REFERENCE, CODE_SPAN):
            expected = sorted(pattern.findall(english))
            found = sorted(pattern.findall(text))
            if expected != found:
                wrong.append(f"{path}: expected {expected}, found {found}")
    assert not wrong, "\n".join(wrong)


def test_no_leftover_english(language: str, translated: dict[str, object]) -> None:
    """No string is left in English, save the allowlisted ones."""
    same, english_words = [], []
    for path, english in ENGLISH.items():
        text = translated.get(path)
        if not isinstance(english, str) or not isinstance(text, str):
            continue
        if text == english and language not in SAME_AS_ENGLISH.get(text, ((), ""))[0]:
            same.append(f"{path}: {text!r}")
        prose = CODE_SPAN.sub(" ", PLACEHOLDER.sub(" ", text))
        if words := sorted({word.lower() for word in ENGLISH_WORD.findall(prose)}):
            english_words.append(f"{path}: {words} in {text!r}")
    assert not same, "same as English:\n" + "\n".join(same)
    assert not english_words, "English words:\n" + "\n".join(english_words)


def test_allowlist_is_current() -> None:
    """Every allowlisted value is still an English string, so the list cannot rot."""
    english_values = set(ENGLISH.values())
    stale = sorted(value for value in SAME_AS_ENGLISH if value not in english_values)
    assert not stale, f"allowlisted but not in strings.json: {stale}"
    assert all(reason for _, reason in SAME_AS_ENGLISH.values())


def test_readme_names_every_language() -> None:
    """The README names every translated language, in English."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        name
        for name in LANGUAGE_NAMES.values()
        if not re.search(rf"\b{name}\b", readme)
    ]
    assert not missing, f"README.md does not name: {missing}"
    assert set(LANGUAGE_NAMES) == set(LANGUAGES)
