"""The bundled framework definitions (the TOML files beside this one) as package data.

pyproject.toml installs this folder as ``sheet_tools.workbook_templates`` so that every install
(wheel, pipx, editable) carries it; sheet_tools.frameworks finds it with importlib.resources. This
file makes the folder a regular package, which an editable install can map; it holds no code.
"""
