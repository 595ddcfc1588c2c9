"""Where the real CRM exports live for the funnels that need them (funnels/olist.yaml, maven).

They are not in the repository (Olist is CC BY-NC-SA): CI clones the repo with `../shared`
beside it. A user's clone does not have it, so tests that need it skip with this reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATASETS = ROOT.parent / "shared" / "datasets"
REAL_DATA = {"olist": "olist_marketing_funnel", "maven": "maven_crm_pipeline"}
SKIP_REASON = f"real datasets not found at {DATASETS} (CI has ../shared/datasets beside the repo)"


def data_folder(funnel_stem: str) -> Path | None:
    """The --data folder a funnels/*.yaml needs, None for funnels on sample_data/."""
    folder = REAL_DATA.get(funnel_stem)
    return None if folder is None else DATASETS / folder


def require(folder: str) -> Path:
    """DATASETS/folder, or skip the calling test with a clear reason."""
    path = DATASETS / folder
    if not path.is_dir():
        pytest.skip(SKIP_REASON)
    return path


def data_args(funnel_stem: str) -> list[str]:
    """`["--data", DIR]` for a real-data funnel (skipping when absent), else []."""
    folder = REAL_DATA.get(funnel_stem)
    return [] if folder is None else ["--data", str(require(folder))]
