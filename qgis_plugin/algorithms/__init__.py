"""One Processing algorithm per module."""

from __future__ import annotations

from .batchimport import BatchImportAlgorithm
from .fastload import FastLoadAlgorithm
from .stats import StatsAlgorithm

__all__ = ["ALGORITHMS", "BatchImportAlgorithm", "FastLoadAlgorithm", "StatsAlgorithm"]

ALGORITHMS = (FastLoadAlgorithm, BatchImportAlgorithm, StatsAlgorithm)
