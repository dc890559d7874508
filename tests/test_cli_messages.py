"""What the commands say: warnings, counts, the build's summary, progress, names of papers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from vaultgen import __version__

from .conftest import ROOT

HYPERFITTING = {"id": "2412.04318", "title": "The Hyperfitting Phenomenon: Sharpening and "
                "Stabilizing LLMs for Open-Ended Text Generation",
                "authors": ["Fredrik Carlsson"], "published": "2024-12-05T00:00:00Z"}
ALPHA = {"id": "2505.00001", "title": "Alpha: A Paper", "authors": ["Ann Author"],
         "published": "2025-04-20T00:00:00Z"}


def vaultgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaultgen", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=120)


# --- python -m vaultgen -------------------------------------------------------------------------

def test_python_dash_m_runs_the_command_line() -> None:
    helped = vaultgen("--help")
    assert helped.returncode == 0 and "Usage:" in helped.stdout and "build" in helped.stdout
    versioned = vaultgen("--version")
    assert versioned.returncode == 0 and __version__ in versioned.stdout
