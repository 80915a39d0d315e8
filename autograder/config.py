"""The instructor's grading settings (autograder/grading.toml by default), loaded once."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from autograder.spec import FUNCTIONS

DEFAULT_PATH = Path(__file__).with_name("grading.toml")
FLOAT32 = np.dtype(np.float32)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


class ConfigError(ValueError):
    """The settings file is missing, malformed, or names an unknown function."""


@dataclass(frozen=True)
class Tolerance:
    """Elementwise closeness: |received - expected| <= atol + rtol * |expected|."""

    rtol: float
    atol: float


@dataclass(frozen=True)
class Settings:
    seed: int
    points: dict[str, float]
    tolerances: dict[str, Tolerance]
    call_timeout: float
    call_timeouts: dict[str, float]
    submission_timeout: float
    limits: dict[str, int] = field(default_factory=dict)
    public_visibility: str = "visible"
    hidden_visibility: str = "after_published"
    reveal_hidden_details: bool = False

    def tolerance(self, dtype: object) -> Tolerance:
        """The tolerance for inputs of `dtype` (float32 gets the looser one)."""
        return self.tolerances["float32" if np.dtype(dtype) == FLOAT32 else "float64"]

    def timeout_for(self, function: str) -> float:
        return self.call_timeouts.get(function, self.call_timeout)


def _parse(data: dict, path: Path) -> Settings:
    points = {str(k): float(v) for k, v in data.get("points", {}).items()}
    unknown = sorted(set(points) - set(FUNCTIONS))
    if unknown:
        raise ConfigError(f"{path}: [points] names unknown functions: {', '.join(unknown)}")
    missing = sorted(set(FUNCTIONS) - set(points))
    if missing:
        raise ConfigError(f"{path}: [points] has no entry for {', '.join(missing)}")
    limits = data.get("limits", {})
    visibility = data.get("visibility", {})
    for key in ("public", "hidden"):
        if visibility.get(key, "visible") not in VISIBILITIES:
            raise ConfigError(f"{path}: visibility.{key} must be one of {', '.join(VISIBILITIES)}")
    return Settings(
        seed=int(data.get("seed", 0)),
        points=points,
        tolerances={k: Tolerance(float(v["rtol"]), float(v["atol"]))
                    for k, v in data["tolerance"].items()},
        call_timeout=float(limits.get("call_timeout", 5.0)),
        call_timeouts={str(k): float(v) for k, v in data.get("call_timeout", {}).items()},
        submission_timeout=float(limits.get("submission_timeout", 90.0)),
        limits={k: int(limits[k]) for k in ("memory_mb", "cpu_seconds", "file_mb", "processes", "tmpfs_mb")
                if k in limits},
        public_visibility=visibility.get("public", "visible"),
        hidden_visibility=visibility.get("hidden", "after_published"),
        reveal_hidden_details=bool(visibility.get("reveal_hidden_details", False)),
    )


@lru_cache(maxsize=8)
def load(path: Path | None = None) -> Settings:
    """Read the settings; AUTOGRADER_CONFIG names another file when `path` is None."""
    path = Path(path or os.environ.get("AUTOGRADER_CONFIG") or DEFAULT_PATH)
    try:
        data = tomllib.loads(path.read_text())
        return _parse(data, path)
    except FileNotFoundError:
        raise ConfigError(f"settings file not found: {path}") from None
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"{path}: {exc}") from None
