"""Replay a restage recorded with `cfreplay record restage my-app`, offline.

    cfreplay record restage my-app -o demo/restage-my-app.yaml
    pytest examples/test_replay_restage.py

The recording came from the embedded simulator (or your foundation): this test
replays its POST /v2/apps/:guid/restage with the network blocked and the clock
frozen at the recording instant, and checks CC's answer.
"""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import cfreplay
from cfreplay import cassette

CASSETTE = Path(os.environ.get("CFREPLAY_CASSETTE", "demo/restage-my-app.yaml"))


def test_the_recorded_restage_replays_offline() -> None:
    recorded = cassette.load(CASSETTE)
    restage = next(i for i in recorded if i["request"]["uri"].endswith("/restage"))
    url = restage["request"]["uri"]

    with cfreplay.use_cassette(CASSETTE) as active:  # replay only: no socket is opened
        request = urllib.request.Request(url, method="POST", headers={"Authorization": "bearer replayed"})
        with urllib.request.urlopen(request) as response:
            status, body = response.status, json.loads(response.read())

    assert active.offline
    assert status == 201
    assert body["entity"]["state"] == "STARTED"
    assert body["entity"]["package_state"] == "PENDING"
    assert url.endswith(f"/v2/apps/{body['metadata']['guid']}/restage")
