"""Finds the packages, so a new stage subpackage needs no edit to the build.

The framework definitions stay at the top of the repository, where trusts and reviewers find
them, and are installed inside the package as ``sheet_tools.workbook_templates``, so that a
wheel, pipx or a plain ``pip install .`` carries them (``definitions/frameworks.py`` finds them
with importlib.resources). Everything else about the build is in pyproject.toml.
"""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["sheet_tools", "sheet_tools.*"]),
        "sheet_tools.workbook_templates",
    ],
    package_dir={"sheet_tools.workbook_templates": "workbook_templates"},
)
