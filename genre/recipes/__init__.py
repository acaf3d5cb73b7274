"""Recipes: how each shipped bundle is rebuilt, through the same pipeline as a user's run.

A recipe is a :class:`~genre.training.config.RunConfig` preset (the run: registered in the run
registry, trained by ``run_training``'s one cross-validation loop, listed on the Training page
like any run) plus what *shipping* does with the finished run: write its model into the assets
folder with the shipped metadata, model card and licence wording. ``python -m genre recipe NAME``
runs one (:mod:`genre.commands.recipe`).
"""

from __future__ import annotations

from genre.recipes.base import Recipe, Shipment
from genre.recipes.baseline_cnn import RECIPE as BASELINE_CNN
from genre.recipes.musicnn_genre import RECIPE as MUSICNN_GENRE

RECIPES: dict[str, Recipe] = {r.name: r for r in (MUSICNN_GENRE, BASELINE_CNN)}

__all__ = ["RECIPES", "Recipe", "Shipment", "get_recipe"]


def get_recipe(name: str) -> Recipe:
    from genre.errors import GenreError

    if name not in RECIPES:
        raise GenreError(f"There is no recipe '{name}'. Choose one of: {', '.join(RECIPES)}.")
    return RECIPES[name]
