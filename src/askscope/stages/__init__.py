"""Analysis stages (see :mod:`askscope.stages.base`). Importing this package registers the
built-in stages."""

from askscope.stages.base import REGISTRY, Context, Stage, StageError, pipeline, register, run_stages

__all__ = ["REGISTRY", "Context", "Stage", "StageError", "pipeline", "register", "run_stages"]
