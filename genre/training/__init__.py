"""Training and comparing genre models: data and caching, loops, metrics, background jobs.

``python -m genre train`` runs one experiment (:func:`genre.training.experiment.run_training`)
and records it in the run registry (:mod:`runs.store`); the Training page launches those
commands as background jobs (:mod:`genre.training.jobs`).
"""

from genre.training.config import RunConfig

__all__ = ["RunConfig"]
