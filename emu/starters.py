"""``blesim new``: starter scenarios written from each personality's ``STARTER`` files."""

from __future__ import annotations

from pathlib import Path

import importlib

from .personality import PERSONALITY_PACKAGES, PersonalityUnavailable, load_personality


class StarterError(ValueError):
    """The starter cannot be written (unknown personality, folder exists, bad name)."""


def write_starter(folder: Path, name: str, personality: str) -> Path:
    """Write ``folder/<name>.yaml`` and its firmware; returns the scenario path."""
    if not name.replace("-", "").replace("_", "").isalnum():
        raise StarterError(f"{name!r}: a scenario name uses letters, digits, '-' and '_'")
    try:
        load_personality(personality)
        package = importlib.import_module(PERSONALITY_PACKAGES[personality])
    except PersonalityUnavailable as exc:
        raise StarterError(str(exc)) from exc
    files: dict[str, str] | None = getattr(package, "STARTER", None)
    if not files:
        raise StarterError(f"personality {personality!r} has no starter")
    if folder.exists() and any(folder.iterdir()):
        raise StarterError(f"{folder}: already exists and is not empty")
    scenario: Path | None = None
    for rel, text in files.items():
        path = folder / rel.format(name=name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.replace("{name}", name), encoding="utf-8")
        if path.suffix == ".yaml" and scenario is None:
            scenario = path
    if scenario is None:
        raise StarterError(f"personality {personality!r}: its starter has no scenario file")
    return scenario
