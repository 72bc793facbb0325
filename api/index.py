"""Vercel's Python entry: the ASGI `app` (vercel.json routes every path here).

Vercel installs the dependencies from pyproject.toml; `src/` is added to the path in case
the project itself was not installed (vercel.json bundles `src/` and `migrations/`)."""

from __future__ import annotations

import sys
from pathlib import Path

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))

from taskapp.entrypoints.serverless import app  # noqa: E402

__all__ = ["app"]
