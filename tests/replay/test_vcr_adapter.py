"""The vcrpy adapter: its check passes on the vcrpy installed; where vcrpy's internals change,
cfreplay records and replays through vcrpy's public behaviour; no other module touches them."""

from __future__ import annotations

import ast
import json
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import vcr
import vcr.cassette
import vcr.config
import vcr.patch
import vcr.stubs
from fakecloud import FakeCloud
from hypothesis import given
from hypothesis import strategies as st

import cfreplay
from cfreplay import cassette as cassette_files
from cfreplay.hygiene.scanner import scan_file
from cfreplay.replay import _vcr, patching

PACKAGE = Path(__file__).resolve().parents[2] / "cfreplay"
TESTS = Path(__file__).resolve().parents[1]


def flow(cloud: FakeCloud) -> list[Any]:
    """Log in, poll the app, read /v2/info (gzip, through httpx): what a CF tool's first calls see."""
    form = {"grant_type": "password", "client_id": "cf", "username": cloud.username, "password": cloud.password}
    with requests.Session() as session:
        grant = session.post(f"{cloud.base}/oauth/token", data=form, timeout=5).json()
        bearer = {"Authorization": f"bearer {grant['access_token']}"}
        app = session.get(f"{cloud.base}/v2/apps/{cloud.guid}", headers=bearer, timeout=5).json()
    info = httpx.get(f"{cloud.base}/v2/info").json()
    return [grant["scope"], grant["expires_in"], app["entity"], info]


def planted(cloud: FakeCloud) -> list[str]:
    return [cloud.password, *cloud.access_tokens, *cloud.refresh_tokens, *cloud.cookies]


# ----------------------------------------------------------------------------- the installed vcrpy


def test_the_installed_vcrpy_passes_the_check_and_takes_the_fast_path(cloud: FakeCloud, tmp_path: Path) -> None:
    assert (_vcr.FAST_PATH, _vcr.REASON) == (True, "")
    with cfreplay.use_cassette(tmp_path / "fast.yaml", record_mode="once") as active:
        assert type(active.vcr_cassette) is _vcr.IndexedCassette
        assert patching.current() is active.vcr_cassette  # the clients' patches are the shared ones
        assert requests.get(f"{cloud.base}/v2/info", timeout=5).ok


# ----------------------------------------------------------------------------- the check


def _rename_instance_state(name: str) -> Callable[[pytest.MonkeyPatch], None]:
    def rename(monkeypatch: pytest.MonkeyPatch) -> None:
        init = vcr.cassette.Cassette.__init__

        def renamed(self: Any, *args: Any, **kwargs: Any) -> None:
            init(self, *args, **kwargs)
            setattr(self, f"{name}_renamed", self.__dict__.pop(name))

        monkeypatch.setattr(vcr.cassette.Cassette, "__init__", renamed)

    return rename


def _load_without_append(monkeypatch: pytest.MonkeyPatch) -> None:
    """A vcrpy whose load fills the cassette without going through append (so nothing is indexed)."""

    def load(self: Any) -> None:
        requests, responses = self._persister.load_cassette(self._path, serializer=self._serializer)[:2]
        self.data.extend(zip(requests, responses, strict=True))
        self._loaded_count = len(self.data)
        self.rewound = True

    monkeypatch.setattr(vcr.cassette.Cassette, "_load", load)


def _context_takes_another_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    def init(self: Any, cls: Any, args_getter: Any, patcher_builder: Any) -> None:
        raise AssertionError("not reached")

    monkeypatch.setattr(vcr.cassette.CassetteContextDecorator, "__init__", init)


CHANGES: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], str]] = {
    "builder renamed": (
        lambda m: m.delattr(vcr.patch, "CassettePatcherBuilder"),
        "vcr.patch has no CassettePatcherBuilder",
    ),
    "a real connection class gone": (
        lambda m: m.delattr(vcr.patch, "_HTTPConnection"),
        "vcr.patch has no _HTTPConnection",
    ),
    "a Cassette method gone": (
        lambda m: m.delattr(vcr.cassette.Cassette, "_responses"),
        "vcr.cassette.Cassette has no _responses",
    ),
    "the context's hook gone": (
        lambda m: m.delattr(vcr.cassette.CassetteContextDecorator, "_patch_generator"),
        "vcr.cassette.CassetteContextDecorator has no _patch_generator",
    ),
    "config merging renamed": (
        lambda m: m.delattr(vcr.config.VCR, "get_merged_config"),
        "vcr.config.VCR has no get_merged_config",
    ),
    "header parsing renamed": (lambda m: m.delattr(vcr.stubs, "parse_headers"), "vcr.stubs has no parse_headers"),
    "instance state renamed": (_rename_instance_state("_loaded_count"), "a vcr.cassette.Cassette has no _loaded_count"),
    "a name of cfreplay's taken": (
        lambda m: m.setattr(vcr.cassette.Cassette, "_index", None, raising=False),
        "vcr.cassette.Cassette uses _index itself",
    ),
    "load bypasses append": (_load_without_append, "the recordings did not play once each, in recorded order"),
    "context signature changed": (_context_takes_another_argument, "the probe failed: TypeError"),
}


@pytest.mark.parametrize("change", CHANGES)
def test_the_check_names_what_a_changed_vcrpy_lacks(monkeypatch: pytest.MonkeyPatch, change: str) -> None:
    make, expected = CHANGES[change]
    make(monkeypatch)
    reason = _vcr._incompatibility()
    assert reason.startswith(f"vcrpy {vcr.__version__}: ") and expected in reason


def test_the_check_passes_again_once_vcrpy_is_whole() -> None:
    assert _vcr._incompatibility() == ""


# ----------------------------------------------------------------------------- the fallback


@pytest.fixture
def public_vcrpy(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """cfreplay as it runs where the check failed."""
    monkeypatch.setattr(_vcr, "FAST_PATH", False)
    yield
    assert patching.current() is None


def test_without_the_internals_it_records_and_replays_through_vcrpys_public_path(
    public_vcrpy: None, cloud: FakeCloud, tmp_path: Path
) -> None:
    path = tmp_path / "public.yaml"
    with cfreplay.use_cassette(path, record_mode="once") as active:
        assert type(active.vcr_cassette) is vcr.cassette.Cassette  # vcrpy's own, patching for itself
        assert patching.current() is None
        live = flow(cloud)
    served = cloud.served
    raw = path.read_bytes()
    assert [secret for secret in planted(cloud) if secret.encode() in raw] == []
    assert scan_file(path) == []

    secret = secrets.token_urlsafe(24)
    with cfreplay.use_cassette(path) as active:
        assert active.offline and active.frozen and type(active.vcr_cassette) is vcr.cassette.Cassette
        assert flow(cloud) == live
        assert active.all_played and active.play_count == 3
        with pytest.raises(cfreplay.UnmatchedRequest) as raised:
            requests.get(f"{cloud.base}/v2/apps/{cloud.guid}?access_token={secret}", timeout=5)
    assert cloud.served == served  # replay never reached the server
    assert secret not in str(raised.value) and str(path) in str(raised.value)


def test_without_the_internals_nested_cassettes_still_answer_in_turn(public_vcrpy: None, tmp_path: Path) -> None:
    def write(path: Path, *bodies: str) -> Path:
        recording = {
            "request": {"body": None, "headers": {}, "method": "GET", "uri": "https://api.example.com/a"},
            "response": {"headers": {}, "status": {"code": 200, "message": "OK"}},
        }
        interactions = [{**recording, "response": {**recording["response"], "body": {"string": b}}} for b in bodies]
        path.write_bytes(cassette_files.dumps({"interactions": interactions, "version": 1}, "yaml"))
        return path

    outer, inner = write(tmp_path / "outer.yaml", "outer 1", "outer 2"), write(tmp_path / "inner.yaml", "inner")
    with requests.Session() as session, cfreplay.use_cassette(outer, freeze_time=False):
        assert session.get("https://api.example.com/a", timeout=5).text == "outer 1"
        with cfreplay.use_cassette(inner, freeze_time=False):
            assert session.get("https://api.example.com/a", timeout=5).text == "inner"
        assert session.get("https://api.example.com/a", timeout=5).text == "outer 2"


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "public path"])
def test_where_the_stubs_keep_vcrpys_error_it_is_sanitized_as_it_leaves_the_cassette(
    monkeypatch: pytest.MonkeyPatch, cloud: FakeCloud, tmp_path: Path, fast: bool
) -> None:
    """A vcrpy whose stubs no longer raise the error by a name cfreplay can replace: it is converted on the way out."""
    path = tmp_path / "flow.yaml"
    with cfreplay.use_cassette(path, record_mode="once"):
        flow(cloud)
    monkeypatch.setattr(_vcr, "_STUB_MODULES", ())
    monkeypatch.setattr(_vcr, "FAST_PATH", fast)
    secret = secrets.token_urlsafe(24)
    with pytest.raises(cfreplay.UnmatchedRequest) as raised, cfreplay.use_cassette(path):
        requests.get(f"{cloud.base}/v2/apps/{cloud.guid}?access_token={secret}", timeout=5)
    error = raised.value
    shown = str(error) + repr(error)
    assert secret not in shown and f"Cassette: {path}\n" in shown  # the cassette itself, not a stand-in
    assert error.__suppress_context__  # vcrpy's own message (the live request) is not shown


SCRIPT = """
import json, sys
sys.path.insert(0, {tests!r})
import vcr.patch

del vcr.patch.CassettePatcherBuilder  # as a vcrpy release that renamed it would have it

import cfreplay, requests
from cfreplay.replay import _vcr, patching
from fakecloud import FakeCloud

cloud = FakeCloud()
form = {{"grant_type": "password", "client_id": "cf", "username": cloud.username, "password": cloud.password}}
try:
    with cfreplay.use_cassette({path!r}, record_mode="once") as active:
        kind = type(active.vcr_cassette).__name__
        shared = patching.current() is not None
        recorded = [requests.post(cloud.base + "/oauth/token", data=form, timeout=5).json()["scope"],
                    requests.get(cloud.base + "/v2/info", timeout=5).json()]
    served = cloud.served
    with cfreplay.use_cassette({path!r}) as active:
        replayed = [requests.post(cloud.base + "/oauth/token", data=form, timeout=5).json()["scope"],
                    requests.get(cloud.base + "/v2/info", timeout=5).json()]
        try:
            requests.get(cloud.base + "/v2/apps?access_token=" + {secret!r}, timeout=5)
            unmatched = ""
        except cfreplay.UnmatchedRequest as error:
            unmatched = str(error)
finally:
    cloud.stop()
print(json.dumps({{
    "fast_path": _vcr.FAST_PATH, "reason": _vcr.REASON, "kind": kind, "shared": shared,
    "same": recorded == replayed, "served_in_replay": cloud.served - served, "unmatched": unmatched,
    "planted": [cloud.password, *cloud.access_tokens, *cloud.refresh_tokens, *cloud.cookies],
}}))
"""


def test_a_fresh_process_with_vcrpy_changed_falls_back_records_and_replays(tmp_path: Path) -> None:
    """The check as it runs on import, in a process whose vcrpy lacks a name; warnings are errors there too."""
    path, secret = tmp_path / "fallback.yaml", secrets.token_urlsafe(24)
    code = SCRIPT.format(tests=str(TESTS), path=str(path), secret=secret)
    done = subprocess.run([sys.executable, "-W", "error", "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["fast_path"] is False
    assert result["reason"] == f"vcrpy {vcr.__version__}: vcr.patch has no CassettePatcherBuilder"
    assert (result["kind"], result["shared"]) == ("Cassette", False)
    assert result["same"] and result["served_in_replay"] == 0
    assert result["unmatched"].startswith("Can't play back this request") and secret not in result["unmatched"]
    raw = path.read_bytes()
    assert [planted for planted in result["planted"] if planted.encode() in raw] == []


# ----------------------------------------------------------------------------- nobody else


#: vcrpy's machinery, whatever the spelling: names cfreplay may use only through the adapter.
INTERNAL_NAMES = frozenset({
    "CassettePatcherBuilder", "ConnectionRemover", "CassetteContextDecorator", "reset_patchers", "force_reset",
    "parse_headers", "get_merged_config", "use_arg_getter",
})  # fmt: skip
#: Of those, the methods of vcrpy's objects (a VCR, a Cassette): machinery on whatever object they are looked up.
INTERNAL_METHODS = frozenset({"get_merged_config", "use_arg_getter"})
#: vcrpy modules that are machinery through and through.
INTERNAL_MODULES = ("vcr.patch", "vcr.stubs", "vcr.serialize")


def _vcrpy_private_members() -> frozenset[str]:
    """The private attributes and methods of vcrpy's cassette, config and patching, read from its source."""
    root = Path(vcr.__file__).parent
    names = set()
    for module in ("cassette.py", "config.py", "patch.py"):
        for node in ast.walk(ast.parse((root / module).read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in ("self", "cls")
            ):
                names.add(node.attr)
            elif isinstance(node, ast.ClassDef):
                names.update(item.name for item in node.body if isinstance(item, ast.FunctionDef))
    return frozenset(name for name in names if _private(name))


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The vcr name an expression stands for (``vcr.patch._HTTPConnection``), if it is one."""
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    if isinstance(node, ast.Attribute):
        owner = _dotted(node.value, aliases)
        return f"{owner}.{node.attr}" if owner else None
    return None


def vcrpy_internals(source: str, private_members: frozenset[str]) -> list[str]:
    """Where *source* uses vcrpy's internals: private names, its machinery, subclasses of its classes."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    used: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "vcr":
                    aliases[alias.asname or "vcr"] = alias.name if alias.asname else "vcr"
                    used.append((node.lineno, alias.name))
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] == "vcr":
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
                used.append((node.lineno, f"{node.module}.{alias.name}"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            dotted = _dotted(node, aliases)
            if dotted:
                used.append((node.lineno, dotted))
            elif node.attr in INTERNAL_METHODS:
                found.add(f"line {node.lineno}: .{node.attr} is vcrpy's machinery")
            elif node.attr in private_members and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.add(f"line {node.lineno}: .{node.attr} is private to vcrpy")
        elif isinstance(node, ast.ClassDef):
            for base in node.bases:
                dotted = _dotted(base, aliases)
                if dotted and not dotted.startswith("vcr.errors."):  # vcrpy's errors are made to be subclassed
                    found.add(f"line {node.lineno}: {node.name} subclasses {dotted}")
    for line, dotted in used:
        parts = dotted.split(".")
        if any(_private(part) for part in parts):
            found.add(f"line {line}: {dotted} is private to vcrpy")
        elif set(parts) & INTERNAL_NAMES or any(dotted == m or dotted.startswith(f"{m}.") for m in INTERNAL_MODULES):
            found.add(f"line {line}: {dotted} is vcrpy's machinery")
    return sorted(found)


@pytest.mark.parametrize(
    "path", [p for p in sorted(PACKAGE.rglob("*.py")) if p.name != "_vcr.py"], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_only_the_adapter_touches_vcrpys_internals(path: Path) -> None:
    assert vcrpy_internals(path.read_text(encoding="utf-8"), _vcrpy_private_members()) == []


def test_the_adapter_is_where_they_are() -> None:
    """The checker itself, on the adapter: it finds what the adapter is there to hold."""
    source = (PACKAGE / "replay" / "_vcr.py").read_text(encoding="utf-8")
    found = "\n".join(vcrpy_internals(source, _vcrpy_private_members()))
    for expected in (
        "vcr.patch._HTTPConnection is private to vcrpy",
        "vcr.patch.CassettePatcherBuilder is vcrpy's machinery",
        ".get_merged_config is vcrpy's machinery",
        "._path is private to vcrpy",
        "._connection_pool_to_connections is private to vcrpy",
    ):
        assert expected in found


def test_the_checker_sees_each_way_in() -> None:
    source = (
        "import vcr\nimport vcr.cassette as vc\nfrom vcr.patch import _HTTPConnection\nfrom vcr import stubs\n"
        "class Mine(vc.Cassette): pass\n"
        "class Unmatched(vcr.errors.CannotOverwriteExistingCassetteException): pass\n"
        "def f(cassette, self):\n"
        "    vcr.VCR().get_merged_config()\n    stubs.parse_headers({})\n    return cassette._match_on, self._path\n"
    )
    assert vcrpy_internals(source, _vcrpy_private_members()) == [
        "line 10: ._match_on is private to vcrpy",
        "line 3: vcr.patch._HTTPConnection is private to vcrpy",
        "line 4: vcr.stubs is vcrpy's machinery",
        "line 5: Mine subclasses vcr.cassette.Cassette",
        "line 8: .get_merged_config is vcrpy's machinery",
        "line 9: vcr.stubs.parse_headers is vcrpy's machinery",
    ]
    assert vcrpy_internals("import vcr\nimport vcr.errors\nvcr.VCR().use_cassette('x')\n", frozenset()) == []


def test_the_stubs_error_is_swapped_and_put_back_in_turn_when_nested() -> None:
    def raised() -> Any:
        return vcr.stubs.CannotOverwriteExistingCassetteException

    original = raised()

    class Outer(Exception):
        pass

    class Inner(Exception):
        pass

    with _vcr.unmatched_raised_as(Outer):
        assert raised() is Outer
        with _vcr.unmatched_raised_as(Inner):
            assert raised() is Inner
        assert raised() is Outer
    assert raised() is original
    assert "CannotOverwriteExistingCassetteException" in vars(vcr.stubs)  # its own attribute still, not inherited

    # Closed out of order (a cassette left before the one entered inside it): vcrpy's own comes back.
    first, second = _vcr.unmatched_raised_as(Outer), _vcr.unmatched_raised_as(Inner)
    assert raised() is Inner
    first.close()
    assert raised() is Inner  # the swap still open decides
    second.close()
    assert raised() is original


def test_cassettes_left_out_of_order_leave_vcrpys_stubs_as_they_were(tmp_path: Path) -> None:
    """Found by CI: two cassettes left outer-first left cfreplay's error class in vcrpy's stubs for every later test."""
    own = vcr.stubs.CannotOverwriteExistingCassetteException
    path = tmp_path / "nothing.yaml"
    path.write_bytes(cassette_files.dumps({"interactions": [], "version": 1}, "yaml"))
    first = cfreplay.use_cassette(path, freeze_time=False, sanitize_config=cfreplay.SanitizeConfig(headers=("X-A",)))
    second = cfreplay.use_cassette(path, freeze_time=False)
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert vcr.stubs.CannotOverwriteExistingCassetteException is own
    assert own is vcr.errors.CannotOverwriteExistingCassetteException


def test_a_template_serves_the_fast_path_only_and_gives_each_cassette_its_own_parts() -> None:
    config = vcr.VCR(record_mode="none")
    template = _vcr.Template(config, {"allow_playback_repeats": True})
    assert template.usable
    seen: list[dict[str, Any]] = []

    def hook(value: Any) -> Any:
        return value

    for path in ("a.yaml", "b.yaml"):
        context = template.context(
            path, serializer=object(), persister=object(), hooks=(hook, hook), loading=None,  # type: ignore[arg-type]
            shared=lambda cassette: None,
        )  # fmt: skip
        seen.append(context._args_getter())  # type: ignore[attr-defined]
    assert [arguments["path"] for arguments in seen] == ["a.yaml", "b.yaml"]
    assert seen[0]["allow_playback_repeats"] and seen[0]["before_record_request"] is hook
    assert seen[0]["match_on"] == seen[1]["match_on"] and seen[0]["match_on"] is not seen[1]["match_on"]
    assert not _vcr.Template(config, {"filter_headers": ["x"]}).usable  # vcrpy's hook chain: merged per cassette


@pytest.mark.parametrize("drop_unused", [False, True])
def test_loaded_interactions_are_kept_as_loaded_only_for_dropping_unused_ones(
    tmp_path: Path, drop_unused: bool
) -> None:
    """vcrpy reads its copy of what it loaded only to drop unused requests: without that option it is let go."""
    status = {"code": 200, "message": "OK"}
    document = {
        "version": 1,
        "interactions": [
            {
                "request": {"method": "GET", "uri": f"https://api.example.com/v2/{name}", "body": None, "headers": {}},
                "response": {"status": status, "headers": {}, "body": {"string": name}, "recorded_at": "2026-12-01"},
            }
            for name in ("used", "unused")
        ],
    }
    path = tmp_path / "two.yaml"
    path.write_bytes(cassette_files.dumps(document, "yaml"))
    with cfreplay.use_cassette(path, record_mode="once", freeze_time=False, drop_unused_requests=drop_unused) as active:
        assert len(active.vcr_cassette._old_interactions) == (2 if drop_unused else 0)
        assert requests.get("https://api.example.com/v2/used").text == "used"
    kept = [i["request"]["uri"] for i in cassette_files.load(path).data["interactions"]]
    assert kept == (["https://api.example.com/v2/used"] if drop_unused else [
        "https://api.example.com/v2/used", "https://api.example.com/v2/unused"])  # fmt: skip


_HEADER_NAME = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters=":"), min_size=1)


@given(headers=st.dictionaries(_HEADER_NAME, st.text(max_size=20), max_size=8))
def test_header_pairs_are_the_items_of_a_vcrpy_request(headers: dict[str, str]) -> None:
    """The request hook's key reads the headers without vcrpy's Mapping mixin: the same pairs, in the same order."""
    from vcr.request import Request as VcrRequest

    request = VcrRequest("GET", "https://api.example.com/v2/info", None, headers)
    assert list(_vcr.header_pairs(request.headers)) == list(request.headers.items())
    assert list(_vcr.header_pairs(dict(headers))) == list(headers.items())  # any other mapping: its items
