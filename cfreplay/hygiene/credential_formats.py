"""Credential formats recognised in any string, taken from detect-secrets' plugins.

cfreplay does not grow its own list of vendor token formats.  Each entry below is
one of detect-secrets' ``RegexBasedDetector`` patterns (Yelp/detect-secrets, the
version in :data:`UPSTREAM_VERSION`), copied verbatim into ``upstream`` and
checked against the installed plugin by ``tests/test_credential_formats.py``, so
a change upstream shows up as a failing test rather than as silent drift.

``pattern`` is what cfreplay runs.  It is the upstream pattern itself unless
``adapted`` says why not: a pattern must run in linear time on a megabyte of
hostile input, must match the credential and not the text around it (the match
is what gets replaced), and must not need the surrounding line.  ``anchors`` are
literal substrings one of which every match contains; the sanitizer looks for a
format only in strings holding an anchor, and the scanner's fast pass opens on
them.  A test checks each anchor claim on generated matches.

Plugins left out, and why (also in the README):

* ``JwtTokenDetector``, ``BasicAuthDetector``, ``KeywordDetector``: cfreplay's own
  ``jwt``, ``url-userinfo`` and name rules cover them with CF knowledge (published
  keys, ``***`` markers, UAA's field names).
* ``Base64HighEntropyString``, ``HexHighEntropyString``: every guid, etag, droplet
  hash and request id would be a finding.
* ``IPPublicDetector``: addresses are not credentials.
* ``TwilioKeyDetector``, ``TelegramBotTokenDetector``, ``DiscordBotTokenDetector``,
  ``ArtifactoryDetector``, ``MailchimpDetector``: no rare literal in the format (``AC`` +
  32 characters, digits + ``:``, ``-us1`` after a hex run, as in every ``en-us``), so they
  cannot be looked for cheaply and would flag CF ids.
* ``CloudantDetector``, ``IbmCloudIamDetector``, ``IbmCosHmacDetector``,
  ``SoftlayerDetector``: keyword-based ("cloudant_password = …"); the name rules
  (``secret-key``, ``env-value``, ``command-line``) cover those names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["FORMATS", "UPSTREAM", "UPSTREAM_VERSION", "CredentialFormat"]

#: The detect-secrets release the ``upstream`` patterns were read from.
UPSTREAM_VERSION: Final = "1.5.0"
UPSTREAM: Final = "detect-secrets"


@dataclass(frozen=True)
class CredentialFormat:
    """One vendor credential format: a rule id, the pattern, and where it came from."""

    id: str
    summary: str
    #: ``detect_secrets.plugins.<module>.<Class>``
    plugin: str
    #: The upstream patterns this entry stands for, verbatim.
    upstream: tuple[str, ...]
    #: What cfreplay runs; group 1, when the pattern has one, is the secret.
    pattern: str
    #: Literal substrings one of which every match holds (case-sensitive).
    anchors: tuple[str, ...]
    #: How far a match may reach before and after its anchor, for the scanner's window.
    reach: tuple[int, int] = (0, 128)
    #: Why ``pattern`` differs from ``upstream``, if it does.
    adapted: str = ""
    ignore_case: bool = False


FORMATS: Final[tuple[CredentialFormat, ...]] = (
    CredentialFormat(
        id="aws-access-key",
        summary="AWS access key ids (AKIA…, ASIA…)",
        plugin="aws.AWSKeyDetector",
        upstream=(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",),
        pattern=r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}",
        anchors=("A3T", "ABIA", "ACCA", "AKIA", "ASIA"),
        reach=(0, 20),
    ),
    CredentialFormat(
        id="aws-secret-key",
        summary='AWS secret keys next to their name ("aws_secret_access_key": "…")',
        plugin="aws.AWSKeyDetector",
        upstream=(r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?[\'\"]([0-9a-zA-Z/+]{40})[\'\"]",),
        pattern=r"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?[\'\"]([0-9a-zA-Z/+]{40})[\'\"]",
        anchors=("aws",),
        reach=(0, 90),
        ignore_case=True,
    ),
    CredentialFormat(
        id="azure-storage-key",
        summary="Azure storage account keys (AccountKey=…)",
        plugin="azure_storage_key.AzureStorageKeyDetector",
        upstream=(r"AccountKey=[a-zA-Z0-9+\/=]{88}",),
        pattern=r"AccountKey=([a-zA-Z0-9+\/=]{88})",
        anchors=("AccountKey=",),
        reach=(0, 100),
        adapted="the key is group 1, so the name before it is kept",
    ),
    CredentialFormat(
        id="github-token",
        summary="GitHub tokens (ghp_…, gho_…, ghu_…, ghs_…, ghr_…)",
        plugin="github_token.GitHubTokenDetector",
        upstream=(r"(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}",),
        pattern=r"(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9_]{36}",
        anchors=("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        reach=(0, 42),
        adapted="the prefix group is not captured: the whole token is the secret",
    ),
    CredentialFormat(
        id="gitlab-token",
        summary="GitLab tokens (glpat-…, glrt-…, GR1348941…)",
        plugin="gitlab_token.GitLabTokenDetector",
        upstream=(
            r"(glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}(?!\w)",
            r"GR1348941[A-Za-z0-9_\-]{20,50}(?!\w)",
            r"glcbt-([0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50}(?!\w)",
            r"glimt-[A-Za-z0-9_\-]{25}(?!\w)",
            r"glptt-[A-Za-z0-9_\-]{40}(?!\w)",
            r"glagent-[A-Za-z0-9_\-]{50,1024}(?!\w)",
            r"gloas-[A-Za-z0-9_\-]{64}(?!\w)",
        ),
        pattern=(
            r"(?:glpat|gldt|glft|glsoat|glrt)-[A-Za-z0-9_\-]{20,50}(?!\w)"
            r"|GR1348941[A-Za-z0-9_\-]{20,50}(?!\w)"
            r"|glcbt-(?:[0-9a-fA-F]{2}_)?[A-Za-z0-9_\-]{20,50}(?!\w)"
            r"|glimt-[A-Za-z0-9_\-]{25}(?!\w)"
            r"|glptt-[A-Za-z0-9_\-]{40}(?!\w)"
            r"|glagent-[A-Za-z0-9_\-]{50,1024}(?!\w)"
            r"|gloas-[A-Za-z0-9_\-]{64}(?!\w)"
        ),
        anchors=(
            "glpat-",
            "gldt-",
            "glft-",
            "glsoat-",
            "glrt-",
            "GR1348941",
            "glcbt-",
            "glimt-",
            "glptt-",
            "glagent-",
            "gloas-",
        ),
        reach=(0, 1040),
        adapted="the seven patterns as one alternation, groups not captured",
    ),
    CredentialFormat(
        id="slack-token",
        summary="Slack tokens (xoxb-…, xoxp-…)",
        plugin="slack.SlackDetector",
        upstream=(r"xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+",),
        pattern=r"xox(?:a|b|p|o|s|r)-(?:\d+-)+[a-z0-9]+",
        anchors=("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"),
        reach=(0, 256),
        ignore_case=True,
    ),
    CredentialFormat(
        id="slack-webhook",
        summary="Slack incoming-webhook URLs",
        plugin="slack.SlackDetector",
        upstream=(r"https://hooks\.slack\.com/services/T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+",),
        pattern=r"https://hooks\.slack\.com/services/(T[a-zA-Z0-9_]+/B[a-zA-Z0-9_]+/[a-zA-Z0-9_]+)",
        anchors=("hooks.slack.com/services/",),
        reach=(8, 256),
        adapted="the path after /services/ is group 1: the host stays readable",
        ignore_case=True,
    ),
    CredentialFormat(
        id="stripe-key",
        summary="Stripe live keys (sk_live_…, rk_live_…)",
        plugin="stripe.StripeDetector",
        upstream=(r"(?:r|s)k_live_[0-9a-zA-Z]{24}",),
        pattern=r"(?:r|s)k_live_[0-9a-zA-Z]{24}",
        anchors=("k_live_",),
        reach=(1, 32),
    ),
    CredentialFormat(
        id="sendgrid-key",
        summary="SendGrid API keys (SG.….…)",
        plugin="sendgrid.SendGridDetector",
        upstream=(r"SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}",),
        pattern=r"SG\.[a-zA-Z0-9_-]{22}\.[a-zA-Z0-9_-]{43}",
        anchors=("SG.",),
        reach=(0, 70),
    ),
    CredentialFormat(
        id="openai-key",
        summary="OpenAI API keys (sk-…T3BlbkFJ…)",
        plugin="openai.OpenAIDetector",
        upstream=(r"sk-[A-Za-z0-9-_]*[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",),
        pattern=r"sk-[A-Za-z0-9-_]{0,200}?[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}",
        anchors=("T3BlbkFJ",),
        reach=(224, 20),
        adapted="the open-ended middle is bounded (200 characters), so a long run cannot make it quadratic",
    ),
    CredentialFormat(
        id="pypi-token",
        summary="PyPI upload tokens (pypi-AgEI…)",
        plugin="pypi_token.PypiTokenDetector",
        upstream=(r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9-_]{70,}", r"pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9-_]{70,}"),
        pattern=r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9-_]{70,}|pypi-AgENdGVzdC5weXBpLm9yZw[A-Za-z0-9-_]{70,}",
        anchors=("pypi-AgE",),
        reach=(0, 4096),
        adapted="the two patterns as one alternation",
    ),
    CredentialFormat(
        id="npm-token",
        summary="npm auth tokens in .npmrc lines (//registry/:_authToken=…)",
        plugin="npm.NpmDetector",
        upstream=(r"\/\/.+\/:_authToken=\s*((npm_.+)|([A-Fa-f0-9-]{36})).*",),
        pattern=r":_authToken=[ \t]*(npm_[A-Za-z0-9]+|[A-Fa-f0-9-]{36})",
        anchors=(":_authToken=",),
        reach=(0, 256),
        adapted="anchored on ':_authToken=' instead of a leading '//.+' (quadratic on long lines); the token "
        "alone is group 1, where upstream's trailing '.*' took the rest of the line",
    ),
    CredentialFormat(
        id="square-oauth",
        summary="Square OAuth secrets (sq0csp-…)",
        plugin="square_oauth.SquareOAuthDetector",
        upstream=(r"sq0csp-[0-9A-Za-z\\\-_]{43}",),
        pattern=r"sq0csp-[0-9A-Za-z\\\-_]{43}",
        anchors=("sq0csp-",),
        reach=(0, 50),
    ),
    CredentialFormat(
        id="private-key",
        summary="private keys: the whole PEM or PuTTY block, from BEGIN to END",
        plugin="private_key.PrivateKeyDetector",
        upstream=(
            "BEGIN DSA PRIVATE KEY",
            "BEGIN EC PRIVATE KEY",
            "BEGIN OPENSSH PRIVATE KEY",
            "BEGIN PGP PRIVATE KEY BLOCK",
            "BEGIN PRIVATE KEY",
            "BEGIN RSA PRIVATE KEY",
            "BEGIN SSH2 ENCRYPTED PRIVATE KEY",
            "PuTTY-User-Key-File-2",
        ),
        pattern=(
            r"BEGIN[ \t]+(?:DSA |EC |OPENSSH |PGP |RSA |SSH2 ENCRYPTED |ENCRYPTED )?PRIVATE[ \t]+KEY(?: BLOCK)?"
            r"|PuTTY-User-Key-File-[23]"
        ),
        anchors=("BEGIN", "PuTTY-User-Key-File-"),
        reach=(40, 40),
        adapted="the marker opens a block that runs to its END marker (or the end of the string): the key "
        "material is what must go, not just the header line; ENCRYPTED PRIVATE KEY (PKCS#8) is included",
    ),
)
