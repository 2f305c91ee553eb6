"""Analysis stages (see :mod:`askscope.stages.base`). The built-in stages are registered through
the ``askscope_stages`` hook in :mod:`askscope.builtins`; :func:`registered` lists every stage."""

from askscope.stages.base import Context, Stage, StageError, pipeline, registered, run_stages

__all__ = ["Context", "Stage", "StageError", "pipeline", "registered", "run_stages"]
