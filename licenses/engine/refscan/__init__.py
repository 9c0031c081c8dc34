"""Static discovery of the models and datasets a code base pulls in (see ``licenses.engine.references``).

One module per source language: ``python_scan`` (ast), ``notebook_scan`` (Jupyter, reusing the Python
and shell passes), ``config_scan`` (YAML/JSON/TOML keys), ``shell_scan`` (Dockerfiles, shell scripts).
``ids`` holds the shared rules for what counts as a Hub id and what is a local path.
"""
