"""Shared pytest configuration: seeds and the optional MQ2008 data."""

import os
import random
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent


def mq2008_path():
    """The MQ2008 folder from ``SKRANK_MQ2008`` or ``../shared/data/MQ2008``."""
    env = os.environ.get("SKRANK_MQ2008")
    path = Path(env) if env else ROOT.parent / "shared" / "data" / "MQ2008"
    return path if (path / "Fold1" / "train.txt").is_file() else None


@pytest.fixture
def mq2008():
    path = mq2008_path()
    if path is None:
        pytest.skip("MQ2008 not found (set SKRANK_MQ2008 to its folder)")
    return path


@pytest.fixture(autouse=True)
def _seed_everything():
    random.seed(0)
    np.random.seed(0)  # noqa: NPY002 (seed legacy global state for third parties)
    try:
        import torch
    except ImportError:  # pragma: no cover
        return
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(False)
