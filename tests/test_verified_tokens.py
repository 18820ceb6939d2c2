"""A token that passed its checks is not checked again while checking it again would pass (`auth.incoming`)."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from auth.incoming import CLOCK_SKEW, VerifiedTokens

BOT_SERVICE = ("https://api.botframework.com", "|", "serviceurl")
HEADER = {"alg": "RS256", "kid": "k"}
ENTRA = ("https://login.microsoftonline.com/tenant/v2.0", "|", "tid")


def _published() -> dict[str, Any]:
    """A public key as a key set publishes it."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAAlgorithm.to_jwk(private.public_key(), as_dict=True) | {"kid": "k"}


PUBLISHED = _published()


@pytest.fixture
def key() -> jwt.PyJWK:
    return jwt.PyJWK.from_dict(PUBLISHED, algorithm="RS256")


def _claims(expires_in: float) -> dict[str, Any]:
    return {"aud": "agent", "exp": int(time.time() + expires_in)}


def test_a_checked_token_is_taken_again_with_its_claims(key: jwt.PyJWK) -> None:
    verified, claims = VerifiedTokens(), _claims(3600)
    verified.keep("token", key, BOT_SERVICE, HEADER, claims)

    assert verified.claims("token", key, BOT_SERVICE) == claims


def test_the_claims_handed_out_are_a_copy(key: jwt.PyJWK) -> None:
    verified, claims = VerifiedTokens(), _claims(3600)
    verified.keep("token", key, BOT_SERVICE, HEADER, claims)

    first = verified.claims("token", key, BOT_SERVICE)
    assert first is not None
    first["aud"] = "someone else"

    assert verified.claims("token", key, BOT_SERVICE) == claims


def test_a_token_checked_with_another_key_object_is_checked_again(key: jwt.PyJWK) -> None:
    verified = VerifiedTokens()
    verified.keep("token", key, BOT_SERVICE, HEADER, _claims(3600))

    refetched = jwt.PyJWK.from_dict(PUBLISHED, algorithm="RS256")  # the same key, from a key set fetched anew
    rotated = jwt.PyJWK.from_dict(_published(), algorithm="RS256")

    assert verified.claims("token", refetched, BOT_SERVICE) is None
    assert verified.claims("token", rotated, BOT_SERVICE) is None


def test_a_token_checked_for_one_path_is_not_taken_for_another(key: jwt.PyJWK) -> None:
    verified = VerifiedTokens()
    verified.keep("token", key, BOT_SERVICE, HEADER, _claims(3600))

    assert verified.claims("token", key, ENTRA) is None


def test_a_token_past_its_expiry_and_the_clock_skew_is_dropped(key: jwt.PyJWK) -> None:
    verified = VerifiedTokens()
    verified.keep("expired", key, BOT_SERVICE, HEADER, _claims(-CLOCK_SKEW - 1))
    verified.keep("within skew", key, BOT_SERVICE, HEADER, _claims(-CLOCK_SKEW + 60))

    assert verified.claims("expired", key, BOT_SERVICE) is None
    assert verified.claims("within skew", key, BOT_SERVICE) is not None


def test_a_kept_tokens_header_and_claims_are_read_without_parsing_it_again(key: jwt.PyJWK) -> None:
    verified, claims = VerifiedTokens(), _claims(3600)
    verified.keep("token", key, BOT_SERVICE, HEADER, claims)

    assert (verified.header("token"), verified.claims_as_read("token")) == (HEADER, claims)
    assert (verified.header("unknown"), verified.claims_as_read("unknown")) == (None, None)


def test_only_the_most_recently_used_tokens_are_kept(key: jwt.PyJWK) -> None:
    verified = VerifiedTokens()
    for index in range(VerifiedTokens.SIZE):
        verified.keep(f"token-{index}", key, BOT_SERVICE, HEADER, _claims(3600))
    assert verified.claims("token-0", key, BOT_SERVICE) is not None  # used: now the most recent

    verified.keep("one more", key, BOT_SERVICE, HEADER, _claims(3600))

    assert verified.claims("token-0", key, BOT_SERVICE) is not None
    assert verified.claims("token-1", key, BOT_SERVICE) is None
