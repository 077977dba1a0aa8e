"""Layer 5, the command line: ``cfreplay`` and ``python -m cfreplay``.

- ``cli``: argument parsing, exit codes, one-line errors;
- ``record``: ``cfreplay record`` (from a foundation, the simulator or the docs);
- ``importing``: ``cfreplay import`` (cf CLI traces, HAR, mitmproxy captures);
- ``show``: ``cfreplay show`` and ``cfreplay diff``.

May import every layer below.
"""

__all__: list[str] = []  # the modules are the API; nothing is re-exported here
