"""Prove that no secret is left: find exactly what the sanitizer would change.

The scanner and the sanitizer read one rule table (:mod:`cfreplay.hygiene.rules`) and
call the same functions on every value they look at, so a finding is always
something ``cfreplay sanitize`` replaces, by the rule id the sanitizer reports,
and a file ``sanitize --check`` calls clean scans clean.

Two engines, one answer
    The *signal pass* reads a cassette's raw text at the speed of compiled
    regular expressions (a parser runs at a few MB/s, and CI scans every
    cassette on every run).  One pattern holds an alternative per signal —
    each opening with a literal that is rare in cassettes, derived from the
    table: ``eyJ`` (a JWT), a header name the table knows, the ending of a
    secret key or parameter name, ``@`` after ``://``, the anchors of every
    credential format, escapes (``\\u0065``, ``%65``, base64 holding ``eyJ``),
    ``!!binary`` bodies, and YAML constructs it does not read itself.  Each
    signal is settled by the table's own functions on the value it found.

    Where the raw text cannot settle a question — an environment variable named
    like a secret only in an env map, a credentials object, YAML anchors or
    tags, a double-quoted scalar folded with ``\\`` — the interaction (or the
    file) goes to the *exact engine*: it is parsed and run through the
    sanitizer itself, and what the sanitizer would change is the finding.
    Tests hold the signal pass to the exact engine on generated cassettes.

Where a finding is
    Interactions begin at the ``- request:`` lines (YAML) or the structural
    ``"request":`` keys (JSON); the location (``request.headers.Authorization``,
    ``response.body``…) comes from the nearest structural keys above.  Findings
    in decoded text name the decoding (``response.body (gzip)``) and point at
    the line where the encoded text starts.

Plain files
    Test sources, JSON fixtures and docs are not cassettes: only rules that need
    no context run there (JWTs, bearer and basic credentials, URL passwords,
    credential formats, project patterns).

A cassette that does not load
    A ``.yaml``/``.yml``/``.json`` file holding ``interactions`` that the parser cannot
    read as a cassette — cut short, not valid YAML or JSON, a ``!!binary`` body that is no
    base64, another shape — is still read by the signal pass, and what it finds is
    reported.  But where the proof needs the exact engine it has none, and bodies the
    signal pass does not decode itself stay encoded: such a scan is *incomplete*, and says
    so (:attr:`ScanResult.incomplete`; :func:`scan_text` raises).  A cassette that ends
    before its ``version`` key (vcrpy always writes it last) goes to the parser, so a file
    cut at a line break between two interactions is not taken for a whole one.

A finding never holds the secret: ``masked`` shows at most two characters
(``eyJ…`` for a JWT), and never the secret's length.

Rooms
    This module is the public API and the orchestration of one file's scan: which
    engine reads what, and turning what the engines saw into findings.  The signal
    pass is :mod:`~cfreplay.hygiene._signal_pass` (its patterns,
    :mod:`~cfreplay.hygiene._patterns`), the knowledge of vcrpy's raw layout
    :mod:`~cfreplay.hygiene._layout`, the exact engine :mod:`~cfreplay.hygiene._exact`.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, NamedTuple

import yaml

from cfreplay import cassette
from cfreplay.errors import CassetteError
from cfreplay.hygiene import bodies, redaction, rules
from cfreplay.hygiene._exact import (
    Undecodable,
    dry_walker,
    load_whole,
    outside_changes,
    sanitize_interactions,
    sanitize_whole,
)
from cfreplay.hygiene._layout import Format, Locator, SafeLoader, check_layout, key_line
from cfreplay.hygiene._patterns import PLAIN_RULES, patterns_for
from cfreplay.hygiene._signal_pass import SignalPass
from cfreplay.hygiene.rules import RuleTable
from cfreplay.hygiene.sanitizer import Change
from cfreplay.hygiene.writing import TOOL_DIRS, is_virtualenv

__all__ = [
    "CASSETTE_SUFFIXES",
    "PLAIN_RULES",
    "SKIP_DIRS",
    "Finding",
    "ScanResult",
    "iter_files",
    "rule_ids",
    "scan_file",
    "scan_paths",
    "scan_text",
]

#: Directories never worth scanning: VCS data, virtualenvs, caches and build output.
SKIP_DIRS: Final = TOOL_DIRS | {".git", ".venv", ".hypothesis", ".mypy_cache", ".ruff_cache", ".tox", ".nox"}
#: Suffixes of files that may be cassettes; such a file that is binary is an error, not skipped.
CASSETTE_SUFFIXES: Final = (".yaml", ".yml", ".json")
# PLAIN_RULES, the rules that need no context (the only ones that run over plain files), is
# defined with the signal pass's modes (_patterns) and named here, with the public API.


def rule_ids(table: RuleTable | None = None) -> tuple[str, ...]:
    """Every rule id a finding can name, in the table's order."""
    return tuple(rule.id for rule in (table or rules.default_table()).rules)


@dataclass(frozen=True)
class Finding:
    """One secret left in a file, described without revealing it."""

    path: str
    #: Zero-based interaction index in a cassette; ``None`` for plain files and the cassette's own keys.
    interaction: int | None
    #: Where in the interaction (``request.headers.Authorization``, ``response.body (gzip)``),
    #: ``metadata`` for the cassette's own keys, or ``line N`` in a plain file.
    location: str
    #: A rule id of :mod:`cfreplay.hygiene.rules`.
    rule: str
    #: ``eyJ…`` for a JWT; otherwise at most the first two characters and an ellipsis.
    masked: str
    #: 1-based line in the file.
    line: int

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "interaction": self.interaction,
            "location": self.location,
            "rule": self.rule,
            "masked": self.masked,
        }


@dataclass
class ScanResult:
    """What :func:`scan_paths` found: findings, unreadable or dangerous files, and how much it read."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[CassetteError] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    #: Files the exact engine read (the signal pass could not settle them alone).
    exact: int = 0
    #: Cassettes that do not load (cut short, not valid YAML or JSON…): scanned as text only, their
    #: findings are in ``findings``, but secrets in bodies only the parser decodes would not be.
    #: Each error names the file and the parser's reason (``reason``, one line).
    incomplete: list[CassetteError] = field(default_factory=list)


# --------------------------------------------------------------------------- one file

#: The ``version`` key as vcrpy writes it (last, after the interactions and any ``metadata``):
#: a cassette without it does not load, and one cut short lacks it.
_VERSION_KEY: Final = {
    "yaml": re.compile(r"^version: 1\r?$", re.MULTILINE),
    "json": re.compile(r'^ {4}"version": 1,?\r?$', re.MULTILINE),
}

#: A YAML tag or %TAG directive outside a scalar: a YAML file that is no cassette holding one
#: goes to the safe loader, which refuses ``!!python/...``.
_YAML_TAG: Final = re.compile(r"(?<![^\s\[{,])!(?=[!<\w%])|^%TAG", re.MULTILINE)


class _Scan:
    """One file's scan: the signal pass, the layout check, the exact engine where they cannot settle it.

    What the engines saw (the signal pass's hits, the sanitizer's changes) becomes findings here.
    """

    def __init__(self, text: str, path: str, fmt: Format, *, cassette: bool, table: RuleTable) -> None:
        self.text = text
        self.path = path
        self.fmt: Format = fmt
        self.cassette = cassette
        self.table = table
        self.signals = SignalPass(text, path, fmt, cassette=cassette, table=table)
        #: Interactions to read exactly (``None``: the whole file); the signal pass adds to it.
        self.uncertain = self.signals.uncertain
        #: Where the interactions end (the cassette's own keys follow).
        self.end = len(text)
        #: The span of the interactions when the cassette's own keys must be parsed to be read.
        self.outside: tuple[int, int] | None = None
        #: Why the file does not load as a cassette, when the exact engine could not read it.
        self.incomplete: Undecodable | None = None
        #: YAML: where the sections of each interaction laid out as vcrpy writes it start.
        self.sections: dict[int, re.Match[str]] | None = None

    @property
    def dangerous(self) -> bool:
        """Whether the file holds a YAML tag other than ``!!binary``: the whole file is read exactly."""
        return self.signals.dangerous

    def run(self) -> list[Finding]:
        """The signal pass, then the layout check; the exact engine where they leave anything unsettled.

        When the exact engine cannot read the file (:class:`Undecodable`), the signal pass's
        findings stand alone and :attr:`incomplete` says why.
        """
        try:
            return self._run()
        except Undecodable as error:
            self.incomplete = error
            self.outside = None  # the parser read nothing: every hit of the signal pass counts
            return self._findings()

    def _run(self) -> list[Finding]:
        text = self.text
        self.signals.run()
        if self.fmt == "yaml" and self.cassette and (self.dangerous or text.startswith("!")):
            # A tag other than !!binary: the safe loader decides.  It raises CassetteError for
            # !!python/... tags, so such a file is never reported clean; a file that does not
            # load for another reason (a cut that fell inside "!!binary") is incomplete.
            load_whole(text, self.path, "yaml")
        elif not self.cassette and self.path.lower().endswith((".yaml", ".yml")) and _YAML_TAG.search(text):
            _refuse_python_tags(text, self.path)
        if self.cassette:
            self._check_layout()
            if self.table.patterns:
                # A project's regex may match raw text across YAML or JSON syntax, where the
                # sanitizer only ever sees one string at a time: the parser settles it.
                self.uncertain.add(None)
        if self.cassette and (self.dangerous or self.uncertain or self.table.config.redact_all_env):
            return self._exact()
        if self.outside is not None:
            outside = self._outside_findings()
            if outside is None:  # not readable apart from the interactions: the parser reads the whole file
                self.uncertain.add(None)
                return self._exact()
            return sorted(self._findings() + outside, key=_order)
        return self._findings()

    def _check_layout(self) -> None:
        """Send every interaction not laid out as vcrpy writes it to the exact engine (see :func:`check_layout`)."""
        layout = check_layout(self.text, self.fmt, self.signals.starts, self.signals.indent)
        self.end, self.outside, self.sections = layout.end, layout.outside, layout.sections
        self.uncertain.update(layout.unsure)
        starts = self.signals.starts
        if starts and not (
            _VERSION_KEY[self.fmt].search(self.text, layout.end)
            or _VERSION_KEY[self.fmt].search(self.text, 0, starts[0])
        ):
            # Laid out as vcrpy writes it up to where it stops, but no version key: cut short at
            # a line break (or written by hand).  Only the parser can tell, and a cut file that
            # looked whole would be reported clean without a word.
            self.uncertain.add(None)

    # ----------------------------------------------------------------- the signal pass's findings

    def _findings(self) -> list[Finding]:
        """The signal pass's hits as findings: one per (line, rule, value), located in the raw text."""
        signals = self.signals
        if not signals.hits:
            return []
        kept = signals.resolved()
        if self.outside is not None:
            low, high = self.outside  # the rest is the parser's (see _outside_findings)
            kept = [hit for hit in kept if low <= hit[0] < high]
        text = self.text
        best: dict[tuple[int, str, str], tuple[int, str]] = {}
        line, counted = 1, 0
        kept.sort()
        for offset, rule, value, suffix, *_ in kept:
            line += text.count("\n", counted, offset)
            counted = offset
            key = (line, rule, value)
            known = best.get(key)
            if known is None or len(suffix) < len(known[1]):
                best[key] = (offset, suffix)
        locate = (
            Locator(text, self.fmt, signals.starts, signals.indent, self.end, self.sections) if self.cassette else None
        )
        findings: list[Finding] = []
        for (line, rule, value), (offset, suffix) in best.items():
            if locate is None:
                interaction, location = None, f"line {line}"
            else:
                interaction, location = locate(offset)
            findings.append(Finding(self.path, interaction, location + suffix, rule, redaction.mask(rule, value), line))
        findings.sort(key=_order)
        return findings

    # ----------------------------------------------------------------- the exact engine's findings

    def _exact(self) -> list[Finding]:
        """Findings from the sanitizer itself, for the interactions the signal pass could not settle."""
        whole = None in self.uncertain or self.dangerous or self.table.config.redact_all_env
        starts = self.signals.starts
        if whole or not starts:
            changes, originals = sanitize_whole(self.text, self.path, self.fmt, self.table)
            return self._from_report(changes, originals)
        indices = sorted(i for i in self.uncertain if i is not None)
        read = sanitize_interactions(self.text, self.path, self.fmt, starts, self.signals.indent, indices, self.table)
        if read is None:  # an interaction that does not parse alone: the whole file is parsed
            self.uncertain.add(None)
            return self._exact()
        changes, parsed = read
        exact = set(self.uncertain)
        kept = [finding for finding in self._findings() if finding.interaction not in exact]
        if self.outside is not None:
            outside = self._outside_findings()
            if outside is None:
                self.uncertain.add(None)
                return self._exact()
            kept += outside
        return sorted(kept + self._from_report(changes, parsed), key=_order)

    def _outside_findings(self) -> list[Finding] | None:
        """The cassette's own keys (``metadata``, a tool's extras), read by the parser and the sanitizer.

        ``None`` when they cannot be read apart from the interactions (the caller then has
        the parser read the whole file, once: the findings are not added twice).
        """
        assert self.outside is not None
        changes = outside_changes(self.text, self.path, self.fmt, self.outside, self.signals.walker)
        return None if changes is None else self._from_report(changes, {})

    def _from_report(self, changes: Sequence[Change], interactions: dict[int, dict[str, Any]]) -> list[Finding]:
        """The sanitizer's changes as findings: one per replacement, on the interaction's first line."""
        findings = []
        starts = self.signals.starts
        lines: dict[int, int] = {}
        counted, line_no = 0, 1
        known = len(starts)
        firsts = {starts[c.interaction] for c in changes if c.interaction is not None and c.interaction < known}
        for offset in sorted(firsts):
            line_no += self.text.count("\n", counted, offset)
            counted, lines[offset] = offset, line_no
        for change in changes:
            index = change.interaction
            offset = starts[index] if index is not None and index < len(starts) else 0
            location = change.location
            if index is not None and location.endswith(".body") and index in interactions:
                side = interactions[index].get(location.split(".", 1)[0])
                codings = bodies.content_encoding(side.get("headers") if isinstance(side, dict) else None)
                if codings:
                    location += f" ({'+'.join(codings)})"
            if index is None:
                line = key_line(self.text, self.fmt, location.split(".", 1)[0])
            else:
                line = lines.get(offset) or self.text.count("\n", 0, offset) + 1
            findings.append(Finding(self.path, index, location, change.rule, change.masked, line))
        return sorted(findings, key=_order)


def _refuse_python_tags(text: str, path: str) -> None:
    """Raise CassetteError when a YAML file that is no cassette holds a ``!!python/...`` tag."""
    try:
        yaml.load(text, Loader=SafeLoader)
    except yaml.constructor.ConstructorError as error:
        if "python/" in str(error):
            raise CassetteError(path, "holds a dangerous !!python tag (nothing was run)") from None
    except (yaml.YAMLError, RecursionError):
        pass


def _order(finding: Finding) -> tuple[str, int, int, str, str, str]:
    interaction = -1 if finding.interaction is None else finding.interaction
    return (finding.path, finding.line, interaction, finding.location, finding.rule, finding.masked)


# --------------------------------------------------------------------------- public API


def _format_of(path: str, text: str) -> Format:
    suffix = os.path.splitext(path)[1].lower()
    if suffix == ".json":
        return "json"
    if suffix in (".yaml", ".yml"):
        return "yaml"
    return "json" if text.lstrip()[:1] == "{" else "yaml"


def scan_text(
    text: str,
    *,
    path: str = "<text>",
    cassette: bool = True,
    table: RuleTable | None = None,
) -> list[Finding]:
    """Findings in *text*, sorted by line.

    With ``cassette=True`` every rule applies; otherwise only the rules that need no
    context (:data:`PLAIN_RULES` and the credential formats).  *table* carries the
    project's rules (default: the built-in ones).  *path* names the source in findings
    and errors, and its suffix tells YAML from JSON.  Raises
    :class:`~cfreplay.CassetteError` for a YAML cassette holding a tag the safe loader
    refuses (``!!python/...``), or one that does not load as a cassette (cut short, not
    valid YAML or JSON): its proof would be incomplete.  :func:`scan_paths` reports the
    findings in such a file and lists it in :attr:`ScanResult.incomplete`.
    """
    chosen = table if table is not None else rules.default_table()
    scan = _Scan(text, path, _format_of(path, text), cassette=cassette, table=chosen)
    findings = scan.run()
    if scan.incomplete is not None:
        raise scan.incomplete
    return findings


def _read(path: Path) -> tuple[str, bool, int] | None:
    """A file's text, whether it is a cassette, and its size; ``None`` for a binary file that is no cassette."""
    raw = cassette.read_bytes(path, noun="file")
    maybe_cassette = path.suffix.lower() in CASSETTE_SUFFIXES
    try:
        if b"\x00" in raw:
            raise UnicodeError("NUL byte")
        text = raw.decode("utf-8")
    except UnicodeError:
        if maybe_cassette:
            cassette.loads(raw, path=path)  # words the error (binary, or not UTF-8 at which offset) and raises
            raise CassetteError(path, "is not UTF-8 text") from None  # pragma: no cover
        return None
    return text, maybe_cassette and "interactions" in text, len(raw)


def scan_file(path: str | os.PathLike[str], *, table: RuleTable | None = None) -> list[Finding]:
    """Findings in one file: a cassette (``.yaml``/``.yml``/``.json`` holding ``interactions``) or a plain file."""
    file = Path(path)
    read = _read(file)
    if read is None:
        return []
    text, is_cassette, _ = read
    return scan_text(text, path=str(path), cassette=is_cassette, table=table)


def _walk(root: Path) -> Iterable[Path]:
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = sorted(
            d for d in subdirectories if d not in SKIP_DIRS and not is_virtualenv(os.path.join(directory, d))
        )
        for name in sorted(files):
            candidate = Path(directory, name)
            try:
                if not stat.S_ISREG(candidate.stat().st_mode):
                    continue  # FIFOs, sockets and devices are no files to scan
            except OSError:
                pass  # a dangling link: reading it names the problem
            yield candidate


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterable[Path]:
    """The files :func:`scan_paths` visits, in its order (for progress bars)."""
    for given in paths:
        root = Path(given)
        yield from (_walk(root) if root.is_dir() else (root,))


#: Below this many bytes in all, a second process costs more than it saves.
_PARALLEL_BYTES: Final = 4 * 1024 * 1024


class _Problem(NamedTuple):
    """A CassetteError as plain data: it crosses a process boundary (the error itself does not unpickle)."""

    path: str
    reason: str
    interaction: int | None

    @classmethod
    def of(cls, error: CassetteError) -> _Problem:
        return cls(error.path, error.reason, error.interaction)

    def error(self) -> CassetteError:
        return CassetteError(self.path, self.reason, interaction=self.interaction)


class _Outcome(NamedTuple):
    """One file's scan, as :func:`_scan_one` hands it back (from another process, too)."""

    path: str
    #: ``None`` for a binary file that is no cassette, or one the error stopped.
    findings: list[Finding] | None = None
    #: What stopped the scan (the file is not counted as scanned).
    error: _Problem | None = None
    size: int = 0
    #: Whether the exact engine read it.
    exact: bool = False
    #: Why the file does not load as a cassette, when it was scanned as text only.
    incomplete: _Problem | None = None


def _scan_one(file: Path, table: RuleTable) -> _Outcome:
    """One file's findings (or the error that stopped it), its size, and whether the exact engine read it."""
    try:
        read = _read(file)
        if read is None:
            return _Outcome(str(file))
        text, is_cassette, size = read
        scan = _Scan(text, str(file), _format_of(str(file), text), cassette=is_cassette, table=table)
        found = scan.run()
        incomplete = _Problem.of(scan.incomplete) if scan.incomplete is not None else None
        return _Outcome(str(file), found, None, size, bool(scan.uncertain or scan.dangerous), incomplete)
    except CassetteError as error:
        return _Outcome(str(file), error=_Problem.of(error))


def _regular_size(file: Path) -> int:
    try:
        info = file.stat()
    except OSError:
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def scan_paths(
    paths: Iterable[str | os.PathLike[str]],
    *,
    table: RuleTable | None = None,
    on_file: Callable[[Path], None] | None = None,
    workers: int | None = 1,
) -> ScanResult:
    """Scan files and directories (recursively), collecting findings and errors.

    Directories skip :data:`SKIP_DIRS` and virtualenvs (:func:`is_virtualenv`), binary
    files and non-regular files.  A file
    that cannot be read, a binary cassette-suffixed file or a dangerous cassette lands
    in ``errors``; the scan goes on.  A cassette that does not load (cut short, not
    valid YAML or JSON) is scanned as text: its findings are reported, and it lands in
    ``incomplete``.  ``workers=None`` scans in one process per CPU when
    there is enough to scan (several megabytes in several files); the result is the same.
    """
    result = ScanResult()
    chosen = table if table is not None else rules.default_table()
    files: list[Path] = []
    seen: set[Path] = set()
    for given in paths:
        root = Path(given)
        for file in _walk(root) if root.is_dir() else (root,):
            if file not in seen:
                seen.add(file)
                files.append(file)
    count = workers if workers is not None else (os.cpu_count() or 1)
    parallel = count > 1 and len(files) > 1 and sum(_regular_size(f) for f in files) >= _PARALLEL_BYTES
    if parallel:
        outcomes = _in_processes(files, chosen, min(count, len(files)), on_file)
    else:
        outcomes = []
        for file in files:
            if on_file is not None:
                on_file(file)
            outcomes.append(_scan_one(file, chosen))
    per_file: list[tuple[str, list[Finding]]] = []
    for outcome in outcomes:
        if outcome.error is not None:
            result.errors.append(outcome.error.error())
        elif outcome.findings is not None:
            result.files += 1
            result.bytes += outcome.size
            result.exact += outcome.exact
            per_file.append((outcome.path, outcome.findings))
            if outcome.incomplete is not None:
                result.incomplete.append(outcome.incomplete.error())
    per_file.sort(key=lambda item: item[0])
    result.findings = [finding for _, found in per_file for finding in found]
    result.errors.sort(key=lambda error: error.path)
    result.incomplete.sort(key=lambda error: error.path)
    return result


def _in_processes(
    files: list[Path], table: RuleTable, count: int, on_file: Callable[[Path], None] | None
) -> list[_Outcome]:
    """Scan *files* in *count* forked processes, largest first, results in the files' order."""
    import concurrent.futures
    import multiprocessing

    try:
        context = multiprocessing.get_context("fork")
    except ValueError:  # pragma: no cover - no fork on this platform
        return [_scan_one(file, table) for file in files]
    order = sorted(range(len(files)), key=lambda i: -_regular_size(files[i]))
    outcomes: list[_Outcome] = [_Outcome("")] * len(files)
    # The workers are forked: built here, the table's patterns and walker are theirs for
    # free, and the table is not pickled for every file (a copy would build them again).
    global _FORKED_TABLE
    patterns_for(table)
    dry_walker(table)
    _FORKED_TABLE = table
    try:
        with concurrent.futures.ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            futures = {pool.submit(_scan_forked, files[i]): i for i in order}
            for future in concurrent.futures.as_completed(futures):
                index = futures[future]
                if on_file is not None:
                    on_file(files[index])
                outcomes[index] = future.result()
    finally:
        _FORKED_TABLE = None
    return outcomes


#: The table a forked worker scans with (set by the parent just before it forks).
_FORKED_TABLE: RuleTable | None = None


def _scan_forked(file: Path) -> _Outcome:
    assert _FORKED_TABLE is not None, "a worker forked without its table"
    return _scan_one(file, _FORKED_TABLE)
