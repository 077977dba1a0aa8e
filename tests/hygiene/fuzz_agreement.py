"""Glue signals together and ask whether the scanner and the sanitizer still agree.

Not a test (pytest does not collect it): a search for the next disagreement, run by hand.
Each round builds a text from fragments (``eyJ``, a credential format's example, a scheme,
a parameter, an escape, base64, words) with nothing between them, places it in a response
body (an env value, free text) of a YAML and a JSON cassette, and compares what the scanner
finds with what the sanitizer changes, and whether a scan of the sanitized cassette is
clean.  It prints each disagreement with the whole text, so it can become a test::

    .venv/bin/python tests/hygiene/fuzz_agreement.py --seed 1 --rounds 2000

The credential examples draw on ``secrets``, so a seed fixes the shapes, not the keys.
Most of what this found became tests in ``test_credential_formats.py``; what it still finds
is listed in the last closing note of issue 15.
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

from hygiene import test_credential_formats as formats  # noqa: E402  (the tests' own helpers)

from cfreplay.hygiene import rules  # noqa: E402
from cfreplay.hygiene.sanitizer import Sanitizer  # noqa: E402
from cfreplay.hygiene.scanner import scan_text  # noqa: E402

_FAKER = Sanitizer(key=b"f" * 32)


def _published(rng: random.Random) -> str:
    """A JWT signed with cfreplay's published key: what a sanitized cassette holds."""
    part = base64.urlsafe_b64encode(rng.randbytes(24)).decode().rstrip("=")
    return _FAKER.fake_jwt("ey" + f"J{part}.{part}.{part}")


_PUNCTUATION = ["=", "&token=", "?access_token=", "password=", "/", "\\/", ".", "%3D", " ", "\n", '"', "\\u0065", "@"]
_WORD = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _fragment(rng: random.Random, secrets_used: list[str]) -> str:
    roll = rng.random()
    if roll < 0.03:  # what sanitizing leaves: a placeholder, a published fake token
        return rng.choice([rules.PLACEHOLDER_PREFIX + rng.randbytes(8).hex(), _published(rng)])
    if roll < 0.2:
        return "ey" + "J"
    if roll < 0.3:
        text, secret = formats.EXAMPLES[rng.choice(list(formats.EXAMPLES))]()
        secrets_used.append(secret)
        return text
    if roll < 0.4:
        return rng.choice(["Bearer ", "bearer  ", "Basic ", "BASIC "])
    if roll < 0.5:
        return rng.choice(_PUNCTUATION)
    if roll < 0.6:
        return base64.b64encode(rng.randbytes(rng.randint(3, 30))).decode()
    return "".join(rng.choice(_WORD) for _ in range(rng.randint(1, 40)))


def _ends(text: str, secret: str) -> bool:
    """Whether *secret* stands in *text* with nothing a key could run on into after it."""
    at = text.find(secret)
    return at >= 0 and not (_WORD + "+/=").count(text[at + len(secret) : at + len(secret) + 1] or "!")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=1000)
    parser.add_argument("--stop-after", type=int, default=8, help="disagreements to print before stopping")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    found_any = 0
    for _ in range(args.rounds):
        secrets_used: list[str] = []
        text = "".join(_fragment(rng, secrets_used) for _ in range(rng.randint(2, 8)))
        for place in ("env", "text"):
            for fmt in formats.CASSETTE_FORMATS:
                found, changed, cleaned = formats.both_tools(formats.placed(place, text), fmt)
                left = scan_text(cleaned, path=f"c.{fmt}")
                # A credential example's secret still on disk (whole, as written): a leak both
                # tools may agree on.  Glued to what follows, a key may honestly be no key.
                kept = [
                    secret
                    for secret in secrets_used
                    if "\n" not in secret and secret in cleaned and _ends(text, secret)
                ]
                if kept:
                    found_any += 1
                    print(f"{place}/{fmt}: still on disk {[secret[:12] + '…' for secret in kept]}\n    {text!r}")
                if found != changed or left:
                    found_any += 1
                    print(f"{place}/{fmt}: scan only {sorted(found - changed)}, sanitize only {sorted(changed - found)}"
                          f", left after sanitizing {[f.rule for f in left]}\n    {text!r}")  # fmt: skip
        if found_any >= args.stop_after:
            break
    print(f"{found_any} disagreement(s)")
    return 1 if found_any else 0


if __name__ == "__main__":
    sys.exit(main())
