"""The access-token validator's cache: a token's signature is checked once per process, the
check is forgotten when the signing keys change, claims are still refused once expired, and a
changed byte makes a different (unverified) token."""

import base64
import json
import time
from types import SimpleNamespace

import pytest
from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import token_validator

from api.auth import keys as signing_keys
from api.auth.protect import make_protector
from api.auth.tokens import AccessTokenValidator, mint_access_token

ISSUER = "https://commons.test"
AUDIENCE = "https://commons.test/api/v1"
# A fixed clock: tokens are minted at NOW and live ACCESS_TOKEN_MINUTES (15) from it.
NOW = 1_900_000_000


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    return tmp_path_factory.mktemp("signing-keys")


@pytest.fixture(scope="module")
def keys(key_files):
    return signing_keys.load(key_files / "ours.json", generate=True)


@pytest.fixture(scope="module")
def other_keys(key_files):
    """Another issuer's keys: none of them is `keys`' key."""
    return signing_keys.load(key_files / "theirs.json", generate=True)


@pytest.fixture
def clock(monkeypatch):
    """`time.time` as the validator and joserfc's claim checks read it; set `clock.now`."""
    clock = SimpleNamespace(now=float(NOW + 60))
    monkeypatch.setattr(time, "time", lambda: clock.now)
    return clock


@pytest.fixture
def decodes(monkeypatch):
    """Every signature verification: the tokens passed to joserfc's `jwt.decode`, through the
    module authlib's RFC 9068 validator calls it from."""
    calls: list[str] = []
    real = token_validator.jwt.decode

    def spy(value, *args, **kwargs):
        calls.append(value)
        return real(value, *args, **kwargs)

    monkeypatch.setattr(token_validator.jwt, "decode", spy)
    return calls


class Keys:
    """The keys callable the app hands the validator (its key file, re-read on change)."""

    def __init__(self, current):
        self.current = current

    def __call__(self):
        return self.current


def _validator(keys_callable) -> AccessTokenValidator:
    return AccessTokenValidator(keys_callable, issuer=ISSUER, audience=AUDIENCE)


def _mint(keys, subject: str = "7", **overrides) -> str:
    kwargs = {
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "subject": subject,
        "client_id": "tests",
        "now": NOW,
    } | overrides
    return mint_access_token(keys, **kwargs)


def _check(validator: AccessTokenValidator, token: str):
    """As the app checks a request: authlib's protector, Authorization header only."""
    request = SimpleNamespace(headers={"Authorization": f"Bearer {token}"})
    return make_protector(validator).validate_request(scopes=None, request=request)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _unb64(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_a_token_is_verified_once_and_then_accepted_from_the_cache(keys, clock, decodes):
    validator = _validator(Keys(keys))
    token = _mint(keys)
    first = _check(validator, token)
    assert first["sub"] == "7"
    assert decodes == [token]
    for _ in range(3):
        clock.now += 1
        assert _check(validator, token)["sub"] == "7"
    assert decodes == [token], "an accepted token's signature was checked again"
    # Another token is a new entry: verified on its own.
    other = _mint(keys, subject="8")
    assert _check(validator, other)["sub"] == "8"
    assert decodes == [token, other]


def test_a_cached_token_is_refused_once_its_key_is_no_longer_published(
    keys, other_keys, clock, decodes
):
    current = Keys(keys)
    validator = _validator(current)
    token = _mint(keys)
    _check(validator, token)
    _check(validator, token)
    assert decodes == [token]
    current.current = other_keys  # the key file now holds only another key
    with pytest.raises(InvalidTokenError):
        _check(validator, token)
    assert decodes == [token, token], "the key change did not make the token be verified again"
    with pytest.raises(InvalidTokenError):
        _check(validator, token)


def test_a_change_of_keys_that_still_publishes_the_tokens_key_verifies_it_again(
    key_files, clock, decodes
):
    path = key_files / "rotated.json"
    before = signing_keys.load(path, generate=True)
    current = Keys(before)
    validator = _validator(current)
    token = _mint(before)
    _check(validator, token)
    signing_keys.rotate(path)
    current.current = signing_keys.load(path, generate=False)  # both keys, a new object
    assert _check(validator, token)["sub"] == "7"
    assert decodes == [token, token]
    assert _check(validator, token)["sub"] == "7"
    assert decodes == [token, token]


def test_a_cached_token_is_refused_once_it_expires(keys, clock, decodes):
    validator = _validator(Keys(keys))
    token = _mint(keys, minutes=15)
    expires = NOW + 15 * 60
    clock.now = expires - 1.0
    assert _check(validator, token)["exp"] == expires
    assert _check(validator, token)["exp"] == expires  # validated, from the cache
    clock.now = expires + 0.5  # joserfc: expired when exp <= int(now)
    with pytest.raises(InvalidTokenError):
        _check(validator, token)
    clock.now = expires + 3600
    with pytest.raises(InvalidTokenError):
        _check(validator, token)
    assert decodes == [token], "expiry is the claims' check: the signature stays verified"


def test_validate_token_refuses_an_expired_token_it_validated_before(keys, clock):
    """The same, on `validate_token` itself: the claims object it marked as validated."""
    validator = _validator(Keys(keys))
    claims = validator.authenticate_token(_mint(keys, minutes=1))
    clock.now = NOW + 30
    validator.validate_token(claims, None, None)
    validator.validate_token(claims, None, None)
    clock.now = NOW + 61
    with pytest.raises(InvalidTokenError):
        validator.validate_token(claims, None, None)


def test_a_token_with_one_signature_byte_changed_is_refused_after_the_original_was_cached(
    keys, clock, decodes
):
    validator = _validator(Keys(keys))
    token = _mint(keys)
    _check(validator, token)
    head, payload, signature = token.split(".")
    middle = len(signature) // 2
    changed = "A" if signature[middle] != "A" else "B"
    tampered = f"{head}.{payload}.{signature[:middle]}{changed}{signature[middle + 1 :]}"
    assert tampered != token
    with pytest.raises(InvalidTokenError):
        _check(validator, tampered)
    assert decodes == [token, tampered]
    with pytest.raises(InvalidTokenError):
        _check(validator, tampered)  # refusals are not remembered as accepted
    assert _check(validator, token)["sub"] == "7"


def test_other_claims_under_a_cached_tokens_signature_are_refused(keys, clock):
    validator = _validator(Keys(keys))
    token = _mint(keys, subject="7")
    _check(validator, token)
    head, payload, signature = token.split(".")
    forged = f"{head}.{_b64(_unb64(payload) | {'sub': '1'})}.{signature}"
    with pytest.raises(InvalidTokenError):
        _check(validator, forged)
    assert _check(validator, token)["sub"] == "7"


def test_a_cached_token_is_refused_at_the_very_second_it_expires(keys, clock):
    validator = _validator(Keys(keys))
    token = _mint(keys, minutes=1)
    clock.now = NOW + 1
    _check(validator, token)
    clock.now = float(NOW + 60)
    with pytest.raises(InvalidTokenError):
        _check(validator, token)
