"""The local cloud's token issuer and its tenant at load-test size: what stays the same when the work is remembered."""

from __future__ import annotations

import time

import jwt
import pytest

from localcloud.pki import SigningKey
from localcloud.tenant import USERS, WITHOUT_MAILBOX, Directory, generated_users
from localcloud.tokens import REUSE_MARGIN, HeldTokens, TokenIssuer, TokenRejected

AUDIENCE = "https://api.botframework.com"


@pytest.fixture(scope="module")
def issuer() -> TokenIssuer:
    return TokenIssuer("tenant", SigningKey.generate(), SigningKey.generate())


def test_tokens_are_rs256_with_the_signing_keys_id(issuer: TokenIssuer) -> None:
    token = issuer.entra_token(audience=AUDIENCE, client_id="client")

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS256", "kid": issuer.entra_key.kid, "typ": "JWT"}
    assert jwt.decode(token, issuer.entra_key.public_key, algorithms=["RS256"], audience=AUDIENCE)["azp"] == "client"


def test_a_token_accepted_once_is_refused_for_another_audience(issuer: TokenIssuer) -> None:
    token = issuer.entra_token(audience=AUDIENCE, client_id="client")
    issuer.verify_entra(token, [AUDIENCE])

    with pytest.raises(TokenRejected, match="Invalid audience"):
        issuer.verify_entra(token, ["https://graph.microsoft.com"])


def test_a_token_accepted_once_is_refused_once_it_has_expired(issuer: TokenIssuer) -> None:
    token = issuer.entra_token(audience=AUDIENCE, client_id="client", lifetime=1)
    expires = issuer.verify_entra(token, [AUDIENCE])["exp"]
    time.sleep(max(expires - time.time(), 0) + 0.05)

    with pytest.raises(TokenRejected, match="expired"):
        issuer.verify_entra(token, [AUDIENCE])


def test_a_token_signed_by_another_key_is_refused(issuer: TokenIssuer) -> None:
    forger = TokenIssuer("tenant", SigningKey(issuer.entra_key.kid, SigningKey.generate().private_key),
                         issuer.botframework_key)

    with pytest.raises(TokenRejected, match="signature"):
        issuer.verify_entra(forger.entra_token(audience=AUDIENCE, client_id="client"), [AUDIENCE])


def test_a_held_token_is_minted_once_and_again_when_it_nears_expiry() -> None:
    held, minted = HeldTokens(), []

    def mint() -> str:
        minted.append(f"token-{len(minted)}")
        return minted[-1]

    assert [held.get("key", mint), held.get("key", mint)] == ["token-0", "token-0"]
    assert held.get("other", mint) == "token-1"
    assert held.get("short", mint, lifetime=REUSE_MARGIN) == "token-2"
    assert held.get("short", mint, lifetime=REUSE_MARGIN) == "token-3"


def test_generated_users_are_distinct_and_shaped_like_the_seeded_ones() -> None:
    directory = Directory.create(generated=10)
    generated = generated_users(10)

    assert len(directory.users) == len(USERS) + len(WITHOUT_MAILBOX) + 10 and len({user.id for user in generated}) == 10
    assert [user.username for user in generated[:2]] == [f"{USERS[0].username}001", f"{USERS[1].username}002"]
    assert all(user.manager in (None, *(seeded.username for seeded in USERS)) for user in generated)
    assert directory.user_by_name(generated[3].user_principal_name.upper()) == generated[3]
    assert directory.user_by_name(generated[3].id) == generated[3]


def test_the_tenant_has_only_its_seeded_users_unless_asked() -> None:
    assert list(Directory.create().users.values()) == [*USERS, *WITHOUT_MAILBOX]
