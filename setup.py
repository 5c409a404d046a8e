"""Build hook only; the project's metadata is in pyproject.toml.

`pip install /path/to/facial-emotion` builds in the clone, and setuptools copies the package into
``build/lib`` without emptying it: a module or model removed from the clone since an earlier
install was packed into the new wheel all the same. The package's build copy is made afresh.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class FreshBuildPy(build_py):
    def run(self) -> None:
        for package in {name.split(".")[0] for name in self.packages or ()}:
            shutil.rmtree(Path(self.build_lib) / package, ignore_errors=True)
        super().run()


setup(cmdclass={"build_py": FreshBuildPy})
