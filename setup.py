"""The build step that ships action.yml inside the package.

action.yml stays at the repository's root, where GitHub reads it; the command line reads the
same file for its flags' names, defaults and help (traffic_sync.settings.action_inputs), so a
wheel (and `pip install .`, which builds one) carries a copy as `traffic_sync/action.yml`. A
clone, an editable install and the Docker image read the root file itself. Everything else is
in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithActionFile(build_py):
    """setuptools' build_py, plus action.yml copied into the built package."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads the root file in place
            target = Path(self.build_lib) / "traffic_sync" / "action.yml"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / "action.yml", target)


setup(cmdclass={"build_py": BuildWithActionFile})
