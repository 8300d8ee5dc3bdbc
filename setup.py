"""Build hook: ship the top-level `catalogs/`, `examples/` and `dashboards/` inside the wheel.

The catalog lives at the repository's top level (data, reviewed as data), but an installed
package must find it without the repository, so the build copies these folders into
`planner/data/`. Everything else is configured in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        for folder in ("catalogs", "examples", "dashboards"):
            src = ROOT / folder
            dst = Path(self.build_lib) / "planner" / "data" / folder
            if src.is_dir():
                shutil.rmtree(dst, ignore_errors=True)
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))


setup(cmdclass={"build_py": BuildWithData})
