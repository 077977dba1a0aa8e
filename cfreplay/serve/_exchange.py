"""One request as the simulator's handlers see it, CC's and UAA's alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cfreplay.cf import cfapi

__all__ = ["Exchange"]


@dataclass(frozen=True)
class Exchange:
    """The parts of a request every handler needs."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes
    generated_id: str
    incoming_id: str | None

    @property
    def request_id(self) -> str:
        return cfapi.vcap_request_id(self.generated_id, self.incoming_id)
