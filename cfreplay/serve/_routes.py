"""The simulator's one route table: which service answers which method and path, and with what.

One table, so what the simulator serves can be read in one place (and the README's list
checked against it), with UAA's rows apart from CC's: UAA authenticates the client
itself and answers every method on its path (405 for the wrong one, as UAA does); CC's
rows each name one method.  A handler is named, not held: the table is data, and
:func:`bind` ties each row to the service object that answers it.  Anything no row
matches is CC's unknown-route 404 (Sinatra's ``not_found``, answered before any
authentication).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from cfreplay.cf import cfapi
from cfreplay.serve._uaa import TOKEN_PATH
from cfreplay.types import Response

__all__ = ["CC_ROUTES", "ROUTES", "UAA_ROUTES", "BoundRoute", "Route", "bind"]

Service = Literal["cc", "uaa"]

_GUID: Final = "(?P<guid>[^/]+)"
_APP: Final = f"{re.escape(cfapi.APPS_PATH)}/{_GUID}"


@dataclass(frozen=True)
class Route:
    """One row: the service, a method (``None``: any), a whole-path pattern and the handler's name."""

    service: Service
    method: str | None
    pattern: str
    handler: str

    @property
    def path(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


#: UAA's rows: the token endpoint, every method (UAA itself refuses the wrong one).
UAA_ROUTES: Final[tuple[Route, ...]] = (Route("uaa", None, re.escape(TOKEN_PATH), "token"),)

#: CC's rows: discovery, the apps a restage flow reads, the restage itself.  The cf CLI v6
#: looks an app up in its space (``/v2/spaces/:guid/apps``) and polls ``instances`` and
#: ``stats`` after staging; cloudfoundry-client starts at ``/`` and waits on ``summary``.
CC_ROUTES: Final[tuple[Route, ...]] = (
    Route("cc", "GET", "/", "root"),
    Route("cc", "GET", "/v2/info", "info"),
    Route("cc", "GET", re.escape(cfapi.APPS_PATH), "list_apps"),
    Route("cc", "GET", _APP, "get_app"),
    Route("cc", "POST", f"{_APP}/restage", "restage"),
    Route("cc", "GET", f"{_APP}/instances", "instances"),
    Route("cc", "GET", f"{_APP}/stats", "stats"),
    Route("cc", "GET", f"{_APP}/summary", "summary"),
    Route("cc", "GET", f"/v2/spaces/{_GUID}/apps", "list_space_apps"),
)

#: The whole table, tried in order: the first row whose method and whole path match answers.
ROUTES: Final[tuple[Route, ...]] = UAA_ROUTES + CC_ROUTES


@dataclass(frozen=True)
class BoundRoute:
    """A row tied to the object that answers it."""

    method: str | None
    path: re.Pattern[str]
    handler: Callable[..., Response]


def bind(routes: tuple[Route, ...], services: Mapping[Service, object]) -> tuple[BoundRoute, ...]:
    """Each row with its handler looked up on its service (``AttributeError`` for a typo, at start-up)."""
    return tuple(BoundRoute(r.method, r.path, getattr(services[r.service], r.handler)) for r in routes)
