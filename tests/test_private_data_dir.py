"""The test suite never writes into the user's own data folder, not even from the fixtures that
are set up once for a whole module (a trained run there once registered itself in the user's run
list on every ``make test``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runs.home import HOME_ENV, default_root


@pytest.fixture(scope="module")
def module_home() -> Path:
    return default_root()  # what a module-wide fixture's registry or subprocess would use


def test_module_wide_fixtures_get_a_private_data_folder(
    module_home: Path, private_data_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    assert module_home.is_relative_to(tmp_path_factory.getbasetemp()), module_home
    # and each test still gets a folder of its own
    assert os.environ[HOME_ENV] == str(private_data_dir) and private_data_dir != module_home
