"""Layer 1, what cfreplay knows of Cloud Foundry: pure knowledge and documents built from it.

- ``cfapi``: Cloud Controller v2 and UAA as data (fields, API eras, errors, shapes), the one
  name for what ``_versions``, ``_catalog``, ``_paging``, and ``_uaa`` hold;
- ``eras``: what changed when: every era of ``cfapi`` with the commit and release that date it;
- ``schema``: JSON Schemas for those documents, and validation against them;
- ``factories``: seeded, schema-exact documents (public as ``cfreplay.factories``), the one
  name for the factories of ``_apps``, ``_responses`` and ``_login`` (sharing ``_draw``);
- ``tokens``: UAA-shaped JWTs signed with the published test key (public as ``cfreplay.tokens``);
- ``seeding``: one seed for Faker, the factories and the clock.

Imports only the leaves (``cfreplay.errors``, ``cfreplay.types``).
"""

__all__: list[str] = []  # the modules are the API; nothing is re-exported here
