"""Layer 2, keeping secrets out of cassettes: one rule table, and everything that applies it.

- ``rules``: the rule table (every secret rule once: where it looks, how it replaces, its id)
  and ``[tool.cfreplay.sanitize]``; ``credential_formats``: the vendor formats it holds;
- ``detectors``: the shape functions both tools call on a value;
- ``bodies``: decoding bodies (gzip, deflate, br, zstd), with limits;
- ``redaction``: the replacements (placeholders, ``***``, fake JWTs);
- ``sanitizer``: applies the table to cassette data (its entry points; the walk is
  ``_walker``, JSON written back in its layout ``_json_layout``, YAML aliases ``_aliases``);
- ``scanner``: proves it did (public API and orchestration; the signal pass is
  ``_signal_pass`` with its ``_patterns``, vcrpy's raw layout ``_layout``, and the
  parser-backed exact engine ``_exact``);
- ``writing``: the one write path (sanitize, scan the bytes, write atomically under a lock).

Imports ``cfreplay.cf``, ``cfreplay.cassette`` and the leaves; never ``serve``.
"""

__all__: list[str] = []  # the modules are the API; nothing is re-exported here
