"""Layer 2, serving HTTP on 127.0.0.1: the simulator and recorded cassettes.

- ``loopback``: the threaded loopback server both are built on;
- ``simulator``: an embedded Cloud Controller v2 and UAA (public as ``cfreplay.simulator``):
  the world and the route table, with CC in ``_cc``, UAA in ``_uaa`` and a request in ``_exchange``;
- ``server``: ``cfreplay serve``, answering from cassettes.

Imports ``cfreplay.cf``, ``cfreplay.cassette`` and the leaves; never ``hygiene``.
"""

__all__: list[str] = []  # the modules are the API; nothing is re-exported here
