"""Layer 3, recording and replaying: vcrpy and freezegun, behind one adapter each.

- ``recorder``: ``use_cassette`` (the one place that builds ``vcr.VCR``);
- ``matchers``, ``patching``: how requests meet recordings, and the HTTP clients patched;
- ``_vcr``: the adapter, the only module that touches vcrpy's internals (checked at import,
  with a fallback to vcrpy's public behaviour);
- ``clock``: time frozen at the recording's moment, and the freezegun adapter: the only
  module that touches freezegun's internals (checked at import, with a fallback to
  freezegun's own ``start()``); ``network``: no network in replay.

Imports ``cfreplay.hygiene``, ``cfreplay.cf``, ``cfreplay.cassette`` and the leaves.
"""

__all__: list[str] = []  # the modules are the API; nothing is re-exported here
