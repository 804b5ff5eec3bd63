"""What train() leaves in a run directory, read back (torch-free: the ablation summary uses it)."""
from __future__ import annotations

import json
import os

from .config import DEFAULTS


def log_entries(run_dir: str) -> list[dict]:
    """log.jsonl, one dict per epoch as logged (appended to: a resumed run may repeat an epoch)."""
    with open(os.path.join(run_dir, "log.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def trained_on(run_dir: str) -> str | None:
    """hardware.txt (device and torch), written when training finished; None for runs before 1.2.0."""
    path = os.path.join(run_dir, "hardware.txt")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.read().strip()


def run_config(run_dir: str) -> dict:
    """config.json as train() wrote it, with the defaults of keys added since (a run predating an
    option ran without it, which is what the option's default means)."""
    with open(os.path.join(run_dir, "config.json")) as f:
        return {**DEFAULTS, **json.load(f)}
