"""Fixture version of openhands.core.config.

The real module builds OpenHandsConfig (called AppConfig before 2025) on pydantic. Importing
pydantic at the top keeps the real failure mode: without the dependencies installed, importing
this module raises ModuleNotFoundError: No module named 'pydantic'.
"""

from dataclasses import dataclass

import pydantic  # noqa: F401  (the dependency whose absence the install plan guards against)


@dataclass
class OpenHandsConfig:
    runtime: str = "docker"
    workspace_base: str = "/openhands/workspace"
    max_iterations: int = 500


__all__ = ["OpenHandsConfig"]
