"""The Cognito authorizer verifies real moto tokens against the pool's JWKS."""

import gzip
import json
import time
from pathlib import Path

import jwt
import moto
import pytest

from switchyard_local.authorizer import CognitoAuthorizer, Unauthorized, claim_text

pytestmark = pytest.mark.functional


@pytest.fixture
def pool(aws_server, aws_client):
    idp = aws_client("cognito-idp", aws_server)
    pool_id = idp.create_user_pool(PoolName="p", UsernameAttributes=["email"])[
        "UserPool"
    ]["Id"]
    client_id = idp.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", ExplicitAuthFlows=["USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    other_client = idp.create_user_pool_client(UserPoolId=pool_id, ClientName="other")[
        "UserPoolClient"
    ]["ClientId"]
    email, password = "a@example.com", "Passw0rd!x"
    idp.sign_up(ClientId=client_id, Username=email, Password=password)
    idp.admin_confirm_sign_up(UserPoolId=pool_id, Username=email)
    tokens = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password},
    )["AuthenticationResult"]
    issuer = f"https://cognito-idp.us-east-1.amazonaws.com/{pool_id}"
    authorizer = CognitoAuthorizer(
        jwks_url=f"{aws_server}/{pool_id}/.well-known/jwks.json",
        issuer=issuer,
        client_ids=[client_id],
    )
    return {
        "authorizer": authorizer,
        "tokens": tokens,
        "issuer": issuer,
        "client_id": client_id,
        "other_client": other_client,
    }


def forge(claims: dict, algorithm: str = "RS256") -> str:
    """Sign claims with the key that ships inside moto (local use only)."""
    path = Path(moto.__file__).parent / "cognitoidp/resources/jwks-private.json.gz"
    jwk = json.loads(gzip.decompress(path.read_bytes()))
    if algorithm != "RS256":
        return jwt.encode(
            claims, "a-secret-long-enough-for-sha-256-hmac", algorithm=algorithm
        )
    key = jwt.PyJWK(jwk).key
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": jwk["kid"]})


def valid_claims(pool, **changes) -> dict:
    now = int(time.time())
    claims = {
        "sub": "u1",
        "iss": pool["issuer"],
        "token_use": "id",
        "aud": pool["client_id"],
        "exp": now + 300,
        "iat": now,
    }
    claims.update(changes)
    return claims


def test_id_token_of_the_pool_is_accepted(pool):
    claims = pool["authorizer"].verify("Bearer " + pool["tokens"]["IdToken"])

    assert claims["token_use"] == "id"
    assert claims["aud"] == pool["client_id"]


def test_access_token_is_refused_where_the_method_has_no_scopes(pool):
    # API Gateway: without authorization scopes the ID token is required.
    with pytest.raises(Unauthorized, match="ID token"):
        pool["authorizer"].verify(pool["tokens"]["AccessToken"])


def test_access_token_is_accepted_by_its_client_id_for_a_scoped_method(pool):
    claims = pool["authorizer"].verify(
        pool["tokens"]["AccessToken"], scopes=("aws.cognito.signin.user.admin",)
    )

    assert claims["token_use"] == "access"
    assert claims["client_id"] == pool["client_id"]


def test_a_scoped_method_refuses_id_tokens_and_access_tokens_without_its_scope(
    pool,
):
    with pytest.raises(Unauthorized, match="access token"):
        pool["authorizer"].verify(pool["tokens"]["IdToken"], scopes=("orders/read",))
    with pytest.raises(Unauthorized, match="access token"):
        pool["authorizer"].verify(
            pool["tokens"]["AccessToken"], scopes=("orders/read",)
        )


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "someone-else"},
        {"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"},
        {"exp": int(time.time()) - 3600},
        {"token_use": "refresh"},
    ],
    ids=["other-client", "other-issuer", "expired", "bad-token-use"],
)
def test_token_with_a_wrong_claim_is_refused(pool, change):
    token = forge(valid_claims(pool, **change))

    with pytest.raises(Unauthorized):
        pool["authorizer"].verify(token)


def test_expiry_has_a_small_leeway(pool):
    token = forge(valid_claims(pool, exp=int(time.time()) - 10))

    assert pool["authorizer"].verify(token)["sub"] == "u1"


def test_forged_control_token_passes_so_the_refusals_above_are_meaningful(pool):
    assert pool["authorizer"].verify(forge(valid_claims(pool)))["sub"] == "u1"


def test_hs256_token_is_refused(pool):
    with pytest.raises(Unauthorized, match="not RS256"):
        pool["authorizer"].verify(forge(valid_claims(pool), algorithm="HS256"))


def test_missing_header_is_refused(pool):
    with pytest.raises(Unauthorized):
        pool["authorizer"].verify(None)


@pytest.mark.unit
def test_claims_become_strings_like_api_gateway_passes_them():
    assert claim_text("exp", 1718722804) == "Tue Jun 18 15:00:04 UTC 2024"
    assert claim_text("auth_time", 1718636404) == "1718636404"
    assert claim_text("cognito:groups", ["a", "b"]) == "[a b]"
