"""The real cloudfoundry-client (1.40.4) driven through a restage, the way its users write it.

Shared by the tests that replay a recording under it: the simulator's own flow
(tests/serve/test_client_flows.py) and the shipped scenarios (tests/test_shipped.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest


@dataclass
class Restaged:
    """What the client saw: the app's guid, each package_state it read, the instances it waited for."""

    guid: str
    package_states: list[str] = field(default_factory=list)
    instances: int = 0


def restage_and_wait(url: str, username: str, password: str, name: str) -> Restaged:
    """Log in, look *name* up, restage it, poll until STAGED, then wait for its instances to run."""
    client_module: Any = pytest.importorskip("cloudfoundry_client.client")
    client = client_module.CloudFoundryClient(url)  # GET /, then the root's login link
    client.init_with_user_credentials(username, password)
    app = client.v2.apps.get_first(name=name)
    seen = Restaged(app["metadata"]["guid"])
    restaged = client.v2.apps.restage(seen.guid)
    seen.package_states.append(restaged["entity"]["package_state"])
    while seen.package_states[-1] not in ("STAGED", "FAILED"):
        seen.package_states.append(client.v2.apps.get(seen.guid)["entity"]["package_state"])
    seen.instances = client.v2.apps.get_summary(seen.guid)["instances"]
    # The client's own wait (what AppManager.start runs): /instances until that many are RUNNING.
    # check_time 0: a replay never needs to wait, and an unanswered poll fails the replay at once.
    client.v2.apps._wait_for_instances_in_state(seen.guid, seen.instances, "RUNNING", 0.0, 5.0)
    return seen
