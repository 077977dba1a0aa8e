"""UAA's tokens as UAA writes them: audience, grant type, conditional claims, the id and refresh tokens.

Each test names the UAA source it follows (cloudfoundry/uaa); tokens are decoded
without verification, or verified with cfreplay's published test key.
"""

from __future__ import annotations

import re

import jwt
import pytest

from cfreplay.cf import cfapi, factories, tokens
from cfreplay.cf._java import java_hash_map_order, java_hash_set_order, java_string_hash
from cfreplay.cf._uaa import ID_TOKEN_CLAIMS, REFRESH_TOKEN_CLAIMS

#: The cf client's classic scopes, as a token a public cloud issued in February 2016 (UAA 3.x)
#: lists them, and that token's audience: Java HashSet order, the client id third.
CLASSIC_SCOPES = ("cloud_controller.read", "password.write", "cloud_controller.write", "openid")
CLASSIC_AUD = ["cloud_controller", "password", "cf", "openid"]


def claims_of(token: str) -> dict[str, object]:
    return tokens.decode_unverified(token)[1]


# --------------------------------------------------------------------------- aud


def test_java_string_hash_is_javas() -> None:
    assert java_string_hash("hello") == 99162322  # "hello".hashCode()
    assert java_string_hash("") == 0
    # UTF-16 code units: a character outside the BMP counts as its two surrogates.
    assert java_string_hash("\U0001f600") == (0xD83D * 31 + 0xDE00)


@pytest.mark.parametrize(
    ("scopes", "client_id", "expected"),
    [
        # Up to the LAST dot (UaaAuthorizationRequestManager#getResourceIds: lastIndexOf).
        (["a.b.c"], "c", {"c", "a.b"}),
        (["routing.router_groups.read"], "cf", {"cf", "routing.router_groups"}),
        # openid maps to itself (scopeToResource); uaa.none, a trailing dot and no dot add nothing.
        (["openid", "uaa.none", "x.", "plain"], "cf", {"cf", "openid"}),
        (["uaa.none"], "autoscaler", {"autoscaler"}),
        # One entry per resource, the client id once even when a scope names it.
        (["cf.read", "cf.write", "cloud_controller.read", "cloud_controller.admin"], "cf", {"cf", "cloud_controller"}),
    ],
)
def test_audience_is_the_client_and_each_scope_up_to_its_last_dot(
    scopes: list[str], client_id: str, expected: set[str]
) -> None:
    aud = cfapi.audience(scopes, client_id)
    assert set(aud) == expected and len(aud) == len(expected)


def test_audience_comes_in_java_hashset_order_not_client_first() -> None:
    # OAuth2Request copies the resource ids into a HashSet, and createJWTAccessToken lists it.
    assert cfapi.audience(CLASSIC_SCOPES, "cf") == CLASSIC_AUD
    assert java_hash_set_order(["cf", "cloud_controller", "password", "openid"]) == CLASSIC_AUD
    developer = cfapi.audience(cfapi.DEVELOPER_SCOPES, "cf")
    assert developer == ["cloud_controller", "password", "cf", "uaa", "openid", "routing.router_groups"]
    # The order is the set's, whatever order the scopes came in.
    assert cfapi.audience(list(reversed(CLASSIC_SCOPES)), "cf") == CLASSIC_AUD


def test_java_hash_orders_size_their_tables_as_java_does() -> None:
    # A HashSet built from 12 items gets 32 buckets ((int) (12 / .75f) + 1 = 17, rounded up);
    # a HashMap filled one put at a time keeps 16 until its 13th key.
    twelve = [
        "openid",
        "routing.router_groups.write",
        "scim.read",
        "cloud_controller.admin",
        "uaa.user",
        "routing.router_groups.read",
        "cloud_controller.read",
        "password.write",
        "cloud_controller.write",
        "doppler.firehose",
        "scim.write",
        "network.admin",
    ]
    assert java_hash_set_order(twelve)[:5] == twelve[:5]
    assert java_hash_map_order(twelve)[:4] == [
        "routing.router_groups.read",
        "cloud_controller.read",
        "password.write",
        "cloud_controller.write",
    ]
    thirteen = [*twelve, "clients.read"]
    assert java_hash_map_order(thirteen) == java_hash_set_order(thirteen)
    assert sorted(java_hash_map_order(thirteen)) == sorted(thirteen)


def test_every_token_carries_the_audience_rule() -> None:
    body = factories.token_response(scopes=CLASSIC_SCOPES, seed=1)
    assert claims_of(body["access_token"])["aud"] == CLASSIC_AUD
    assert claims_of(body["refresh_token"])["aud"] == CLASSIC_AUD
    assert claims_of(body["id_token"])["aud"] == ["cf"]  # the id token is for the client alone
    cc = claims_of(factories.access_token(grant_type="client_credentials", client_id="autoscaler", scopes=["uaa.none"]))
    assert cc["aud"] == ["autoscaler"]


# --------------------------------------------------------------------------- grant_type


def test_a_refreshed_access_token_keeps_the_password_grant() -> None:
    # UaaTokenServices#refreshAccessToken hands on claims.getGrantType() of the refresh token.
    body = factories.token_response(grant_type="refresh_token", seed=2)
    assert claims_of(body["access_token"])["grant_type"] == "password"
    assert claims_of(body["id_token"])["grant_type"] == "password"
    assert claims_of(body["refresh_token"])["grant_type"] == "password"
    assert claims_of(factories.access_token(grant_type="refresh_token"))["grant_type"] == "password"
    assert claims_of(factories.access_token(grant_type="authorization_code"))["grant_type"] == "authorization_code"


# --------------------------------------------------------------------------- conditional claims


def test_the_cf_clients_empty_secret_is_recorded_as_client_auth_method_none() -> None:
    claims = claims_of(factories.access_token())
    assert claims["client_auth_method"] == "none"
    assert list(claims)[:3] == ["jti", "client_auth_method", "sub"]  # a root claim, right after the jti


def test_a_client_secret_leaves_no_client_auth_method() -> None:
    # UAA sets it for none/empty/private_key_jwt only: never client_secret_basic or _post.
    secret_client = claims_of(factories.access_token(grant_type="client_credentials", client_id="autoscaler"))
    assert "client_auth_method" not in secret_client
    assert "client_auth_method" not in claims_of(factories.access_token(public_client=False))
    public = claims_of(factories.access_token(client_id="my-public-app", public_client=True))
    assert public["client_auth_method"] == "none"


def test_revocable_only_under_the_jwt_revocable_policy() -> None:
    # isAccessTokenRevocable = isOpaque || TokenPolicy.jwtRevocable, false by default.
    default = factories.token_response(seed=3)
    assert "revocable" not in claims_of(default["access_token"])
    assert "revocable" not in claims_of(default["refresh_token"])
    revocable = factories.token_response(seed=3, revocable=True)
    access = claims_of(revocable["access_token"])
    assert access["revocable"] is True
    assert list(access)[list(access).index("azp") + 1] == "revocable"  # then grant_type
    refresh = claims_of(revocable["refresh_token"])
    assert refresh["revocable"] is True and list(refresh)[-2:] == ["revocable", "rev_sig"]


def test_rev_sig_is_an_unpadded_java_hex_int() -> None:
    # UaaTokenUtils#getRevocationHash: Integer.toHexString, so 1 to 8 digits and no leading zero.
    sigs = [str(claims_of(factories.access_token(seed=seed))["rev_sig"]) for seed in range(64)]
    assert all(re.fullmatch(r"[1-9a-f][0-9a-f]{0,7}", sig) for sig in sigs)
    assert any(len(sig) < 8 for sig in sigs)


# --------------------------------------------------------------------------- id_token and refresh token


def test_the_id_token_carries_what_id_token_creator_writes() -> None:
    body = factories.token_response(username="ada@example.com", seed=4)
    access = claims_of(body["access_token"])
    header, claims = tokens.decode_unverified(body["id_token"])
    assert list(header) == ["alg", "jku", "kid", "typ"]
    assert set(claims) == set(ID_TOKEN_CLAIMS)
    # IdToken.getClaimMap() is a HashMap (UAA >= 76.31.0): its key order, not the bean's.
    assert list(claims) == java_hash_map_order(ID_TOKEN_CLAIMS)
    assert claims["cid"] == claims["client_id"] == claims["azp"] == "cf"
    assert claims["grant_type"] == "password" and claims["amr"] == ["pwd"] and claims["email_verified"] is True
    assert claims["scope"] == ["openid"] and "acr" not in claims  # internal users have no acr
    for same in ("auth_time", "rev_sig", "jti", "exp", "iat", "iss", "zid", "origin", "user_name", "email"):
        assert claims[same] == access[same], same
    assert claims["sub"] == claims["user_id"] == access["user_id"]
    verified = jwt.decode(
        body["id_token"], tokens.TEST_KEY, algorithms=["HS256"], audience="cf", options={"verify_exp": False}
    )
    assert verified == claims


def test_no_id_token_without_openid_or_for_a_client() -> None:
    assert "id_token" not in factories.token_response(scopes=["cloud_controller.read"])
    assert "id_token" not in factories.token_response(grant_type="client_credentials", client_id="autoscaler")


def test_the_refresh_token_is_what_refresh_token_creator_writes() -> None:
    body = factories.token_response(seed=5)
    access = claims_of(body["access_token"])
    claims = claims_of(body["refresh_token"])
    assert list(claims) == [name for name in REFRESH_TOKEN_CLAIMS if name not in ("acr", "revocable")]
    assert "azp" not in claims and "acr" not in claims
    assert claims["client_auth_method"] == "none" and claims["amr"] == ["pwd"]
    assert str(claims["jti"]).endswith("-r") and claims["granted_scopes"] == list(cfapi.DEVELOPER_SCOPES)
    assert claims["exp"] == access["iat"] + 30 * 86400  # type: ignore[operator]


def test_opaque_tokens_are_their_own_ids() -> None:
    # persistRevocableToken: new CompositeToken(isOpaque ? tokenId : …); the refresh token its jti.
    body = factories.token_response(opaque=True, seed=6)
    assert body["access_token"] == body["jti"] and re.fullmatch(r"[0-9a-f]{32}", body["access_token"])
    assert re.fullmatch(r"[0-9a-f]{32}-r", body["refresh_token"])
    assert tokens.is_test_token(body["id_token"])
