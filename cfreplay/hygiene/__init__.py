"""Layer 2, keeping secrets out of cassettes: one rule table, and everything that applies it.

- ``rules``: the rule table (every secret rule once: where it looks, how it replaces, its id)
  and ``[tool.cfreplay.sanitize]``; ``credential_formats``: the vendor formats it holds;
- ``detectors``: the shape functions both tools call on a value;
- ``bodies``: decoding bodies (gzip, deflate, br, zstd), with limits;
- ``redaction``: the replacements (placeholders, ``***``, fake JWTs);
- ``sanitizer``: applies the table to cassette data; ``scanner``: proves it did;
- ``writing``: the one write path (sanitize, scan the bytes, write atomically under a lock).

Imports ``cfreplay.cf``, ``cfreplay.cassette`` and the leaves; never ``serve``.
"""

__all__: list[str] = []  # the modules are the API; nothing is re-exported here
