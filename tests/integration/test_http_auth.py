"""Who is asking, over HTTP (SPEC §16, docs/access.md): ``JwtBearer`` against a real local
JWKS server, ``TrustedHeaders``, the middleware's exemptions and seam, and each attack of
issue 27 as a test of its own."""

from __future__ import annotations

import base64
import json
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any

import falcon
import falcon.testing
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app
from taskflow_falcon.auth import JwtBearer, TrustedHeaders
from taskflow_falcon.signin import OidcSignIn
from taskflow_falcon.verified import digest
from tests.support.identity import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    SigningKey,
    claims,
    hs256_token,
    jwks_server,
    unsigned_token,
)

RSA_KEY = SigningKey.rsa()
EC_KEY = SigningKey.ec()


@pytest.fixture
def idp() -> Iterator[JwksServer]:
    with jwks_server(RSA_KEY, EC_KEY) as server:
        yield server


@pytest.fixture
def flow() -> Taskflow:
    return Taskflow(MemoryStore())


def bearer_client(flow: Taskflow, url: str, **options: Any) -> falcon.testing.TestClient:
    options = {"audience": AUDIENCE, "issuer": ISSUER, **options}
    return falcon.testing.TestClient(create_app(flow, authenticate=JwtBearer(jwks=url, **options)))


@pytest.fixture
def client(flow: Taskflow, idp: JwksServer) -> falcon.testing.TestClient:
    return bearer_client(flow, idp.url)


def keys_on_a_clock(
    flow: Taskflow, idp: JwksServer, now: list[float]
) -> tuple[JwtBearer, falcon.testing.TestClient]:
    """``JwtBearer`` keeping its keys an hour (the default), on the clock ``now[0]`` tells."""
    authenticate = JwtBearer(jwks=idp.url, audience=AUDIENCE, max_age=3600)
    assert authenticate.keys is not None
    authenticate.keys.clock = lambda: now[0]
    return authenticate, falcon.testing.TestClient(create_app(flow, authenticate=authenticate))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(result: falcon.testing.Result) -> None:
    """401, the bearer challenge, and a message that says nothing of why."""
    assert result.status_code == 401, result.text
    assert result.headers["WWW-Authenticate"] == "Bearer"
    assert result.json == {"message": "Authentication required"}


class TestAccepted:
    @pytest.mark.parametrize("key", [RSA_KEY, EC_KEY], ids=["RS256", "ES256"])
    def test_a_signed_token_makes_the_user(
        self, flow: Taskflow, client: falcon.testing.TestClient, key: SigningKey
    ) -> None:
        token = key.sign(claims("ann", realm_access={"roles": ["clerk"]}, organisation="acme"))
        seen: list[Any] = []
        flow.hook("create", lambda event: seen.append(event.meta["user"]))
        created = client.simulate_post("/", json={"a": 1}, headers=bearer(token))
        assert created.status_code == 200, created.text
        assert created.json["data"]["activityLog"][0]["changedBy"] == "ann"
        user = seen[0]
        assert user["profile"] == {"id": "ann"}
        assert user["roles"] == ["clerk"]
        assert user["claims"]["organisation"] == "acme"

    def test_roles_from_a_plain_roles_claim_or_a_named_one(self, idp: JwksServer) -> None:
        from taskflow_falcon.auth import user_from_claims

        assert user_from_claims({"sub": "a", "roles": ["x", 3]})["roles"] == ["x"]
        named = {"sub": "a", "groups": ["g"], "roles": ["r"]}
        assert user_from_claims(named, roles_claim="groups")["roles"] == ["g"]
        assert user_from_claims({"email": "a@b", "sub": "1"}, id_claim="email")["profile"] == {
            "id": "a@b"
        }

    def test_within_the_leeway_a_token_is_still_good(
        self, client: falcon.testing.TestClient
    ) -> None:
        now = int(time.time())
        late = RSA_KEY.sign(claims(exp=now - 30))
        early = RSA_KEY.sign(claims(nbf=now + 30))
        assert client.simulate_get("/", headers=bearer(late)).status_code == 200
        assert client.simulate_get("/", headers=bearer(early)).status_code == 200

    def test_a_key_given_instead_of_a_jwks(self, flow: Taskflow) -> None:
        for key, signer, other in (
            (RSA_KEY.public_pem(), RSA_KEY, EC_KEY),
            (RSA_KEY.public_pem().decode(), RSA_KEY, EC_KEY),
            (EC_KEY.private.public_key(), EC_KEY, RSA_KEY),
            (RSA_KEY.private, RSA_KEY, EC_KEY),
        ):
            authenticate = JwtBearer(key=key, audience=AUDIENCE)
            client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
            token = signer.sign(claims(), kid="whatever")
            assert client.simulate_get("/", headers=bearer(token)).status_code == 200
            assert_refused(client.simulate_get("/", headers=bearer(other.sign(claims()))))
        with pytest.raises(ValueError, match="RSA or P-256"):
            JwtBearer(key=ec.generate_private_key(ec.SECP384R1()))


class TestRefused:
    def test_no_token_or_another_scheme(self, client: falcon.testing.TestClient) -> None:
        assert_refused(client.simulate_get("/"))
        assert_refused(client.simulate_get("/", headers={"Authorization": "Basic YTpi"}))
        assert_refused(client.simulate_get("/", headers={"Authorization": "Bearer"}))
        assert_refused(client.simulate_post("/", json={}))

    def test_alg_none(self, client: falcon.testing.TestClient) -> None:
        for alg in ("none", "None", "NONE"):
            token = unsigned_token(claims(), {"alg": alg, "typ": "JWT", "kid": RSA_KEY.kid})
            assert_refused(client.simulate_get("/", headers=bearer(token)))
        no_kid = unsigned_token(claims(), {"alg": "none"})
        assert_refused(client.simulate_get("/", headers=bearer(no_kid)))

    def test_hs256_signed_with_the_public_key_as_secret(
        self, client: falcon.testing.TestClient
    ) -> None:
        jwk_text = json.dumps(RSA_KEY.jwk()).encode()
        for secret in (RSA_KEY.public_pem(), jwk_text):
            token = hs256_token(claims(), secret, kid=RSA_KEY.kid)
            assert_refused(client.simulate_get("/", headers=bearer(token)))

    def test_a_token_signed_by_another_key_under_a_known_kid(
        self, client: falcon.testing.TestClient
    ) -> None:
        impostor = SigningKey.rsa(kid=RSA_KEY.kid)
        assert_refused(client.simulate_get("/", headers=bearer(impostor.sign(claims()))))
        # An ES256 token naming the RSA key's kid: the algorithm is the key's, not the token's.
        mixed = SigningKey(RSA_KEY.kid, "ES256", EC_KEY.private).sign(claims())
        assert_refused(client.simulate_get("/", headers=bearer(mixed)))

    def test_expired_not_yet_valid_and_without_exp(self, client: falcon.testing.TestClient) -> None:
        now = int(time.time())
        for token in (
            RSA_KEY.sign(claims(exp=now - 61 - 5)),
            RSA_KEY.sign(claims(nbf=now + 61 + 5)),
            RSA_KEY.sign({k: v for k, v in claims().items() if k != "exp"}),
        ):
            assert_refused(client.simulate_get("/", headers=bearer(token)))

    def test_wrong_audience_or_issuer(self, client: falcon.testing.TestClient) -> None:
        for token in (
            RSA_KEY.sign(claims(aud="another-service")),
            RSA_KEY.sign({k: v for k, v in claims().items() if k != "aud"}),
            RSA_KEY.sign(claims(iss="https://evil.example/realms/acme")),
            RSA_KEY.sign({k: v for k, v in claims().items() if k != "iss"}),
        ):
            assert_refused(client.simulate_get("/", headers=bearer(token)))
        several = RSA_KEY.sign(claims(aud=["other", AUDIENCE]))
        assert client.simulate_get("/", headers=bearer(several)).status_code == 200

    def test_no_subject(self, client: falcon.testing.TestClient) -> None:
        for subject in ("", None, True, ["ann"]):
            token = RSA_KEY.sign({**claims(), "sub": subject})
            assert_refused(client.simulate_get("/", headers=bearer(token)))

    def test_truncated_and_garbled_tokens(self, client: falcon.testing.TestClient) -> None:
        token = RSA_KEY.sign(claims())
        for broken in (
            token[:-10],
            token.rsplit(".", 1)[0],
            token[: len(token) // 2],
            "a.b.c",
            "not-a-token",
            token + "x",
            token.replace(".", "..", 1),
        ):
            assert_refused(client.simulate_get("/", headers=bearer(broken)))

    def test_claims_and_headers_of_the_wrong_shape(self, client: falcon.testing.TestClient) -> None:
        for token in (
            RSA_KEY.sign({**claims(), "exp": "9999999999"}),
            RSA_KEY.sign({**claims(), "exp": None}),
            RSA_KEY.sign({**claims(), "exp": True}),
            RSA_KEY.sign({**claims(), "nbf": "0"}),
            RSA_KEY.sign({**claims(), "iat": "yesterday"}),
            RSA_KEY.sign({**claims(), "aud": [1, 2]}),
            RSA_KEY.sign({**claims(), "aud": {"taskflow": True}}),
            RSA_KEY.sign(claims(), crit=["exp"]),  # an extension we do not implement
        ):
            assert_refused(client.simulate_get("/", headers=bearer(token)))
        # A payload that is not an object, and an exp of Infinity, signed all the same.
        header, _, _ = RSA_KEY.sign(claims()).split(".")
        for payload in (b"[1]", b'{"sub": "ann", "aud": "taskflow", "exp": Infinity}'):
            body = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
            signing_input = f"{header}.{body}".encode()
            signature = RSA_KEY.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
            token = f"{header}.{body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
            assert_refused(client.simulate_get("/", headers=bearer(token)))
        padded = RSA_KEY.sign(claims()) + "=="
        assert_refused(client.simulate_get("/", headers=bearer(padded)))

    def test_a_100_kb_token_is_refused_at_once(self, client: falcon.testing.TestClient) -> None:
        huge = RSA_KEY.sign(claims(padding="x" * 100_000))
        assert len(huge) > 100_000
        started = time.perf_counter()
        assert_refused(client.simulate_get("/", headers=bearer(huge)))
        assert time.perf_counter() - started < 0.1


class TestKeys:
    def test_keys_are_fetched_once_and_cached(
        self, client: falcon.testing.TestClient, idp: JwksServer
    ) -> None:
        for _ in range(20):
            token = RSA_KEY.sign(claims())
            assert client.simulate_get("/", headers=bearer(token)).status_code == 200
        assert idp.fetches == 1

    def test_bogus_kids_fetch_again_at_most_once_an_interval(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        authenticate = JwtBearer(jwks=idp.url, audience=AUDIENCE)
        assert authenticate.keys is not None
        assert authenticate.keys.refresh_interval == 30  # the default
        now = [1000.0]
        authenticate.keys.clock = lambda: now[0]  # the interval, without waiting it out
        client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
        assert client.simulate_get("/", headers=bearer(RSA_KEY.sign(claims()))).status_code == 200

        def strangers(count: int) -> None:
            for n in range(count):
                stranger = SigningKey(f"bogus-{n}", "RS256", RSA_KEY.private)
                assert_refused(client.simulate_get("/", headers=bearer(stranger.sign(claims()))))
                now[0] += 0.5

        strangers(50)  # 25 s: within the interval of the first fetch, none again
        assert idp.fetches == 1
        now[0] += 5
        strangers(50)  # the interval over: one fetch for the lot
        assert idp.fetches == 2
        assert client.simulate_get("/", headers=bearer(RSA_KEY.sign(claims()))).status_code == 200

    def test_a_rotated_key_is_fetched_when_a_token_names_it(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        client = bearer_client(flow, idp.url, refresh_interval=0.2)
        assert client.simulate_get("/", headers=bearer(RSA_KEY.sign(claims()))).status_code == 200
        rotated = SigningKey.rsa(kid="rsa-2")
        idp.keys.append(rotated)
        time.sleep(0.25)
        assert client.simulate_get("/", headers=bearer(rotated.sign(claims()))).status_code == 200
        assert idp.fetches == 2

    def test_keys_are_fetched_again_after_max_age_and_kept_when_that_fails(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        now = [0.0]
        authenticate, client = keys_on_a_clock(flow, idp, now)
        token = bearer(RSA_KEY.sign(claims()))
        assert client.simulate_get("/", headers=token).status_code == 200
        now[0] = 3599
        assert client.simulate_get("/", headers=token).status_code == 200
        assert idp.fetches == 1
        now[0] = 3601
        # The provider withdrew the EC key: gone from the keys once fetched again.
        idp.keys.remove(EC_KEY)
        assert client.simulate_get("/", headers=token).status_code == 200
        assert idp.fetches == 2
        assert_refused(client.simulate_get("/", headers=bearer(EC_KEY.sign(claims()))))
        # Past max_age again with the provider away: the keys held stay in use.
        idp.delay = 5
        authenticate.keys.timeout = 0.2
        now[0] = 3601 + 3601
        assert client.simulate_get("/", headers=token).status_code == 200
        assert idp.fetches == 3

    def test_a_jwks_endpoint_that_is_down_answers_503_at_once(self, flow: Taskflow) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        client = bearer_client(flow, f"http://127.0.0.1:{port}/jwks", timeout=1.0)
        token = RSA_KEY.sign(claims())
        for _ in range(5):
            started = time.perf_counter()
            answer = client.simulate_get("/", headers=bearer(token))
            assert answer.status_code == 503, answer.text
            assert answer.json == {"message": "The service is temporarily unavailable; retry later"}
            assert answer.headers["Retry-After"]
            assert time.perf_counter() - started < 1.5

    def test_a_slow_jwks_endpoint_answers_503_within_the_timeout(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        idp.delay = 5.0
        client = bearer_client(flow, idp.url, timeout=0.5)
        token = RSA_KEY.sign(claims())
        started = time.perf_counter()
        assert client.simulate_get("/", headers=bearer(token)).status_code == 503
        assert time.perf_counter() - started < 1.5
        # Until the next attempt is due, the others are answered without waiting on it.
        started = time.perf_counter()
        assert client.simulate_get("/", headers=bearer(token)).status_code == 503
        assert time.perf_counter() - started < 0.2
        assert idp.fetches == 1

    def test_back_after_an_outage(self, flow: Taskflow, idp: JwksServer) -> None:
        idp.delay = 5.0
        client = bearer_client(flow, idp.url, timeout=0.3, retry_interval=0.1)
        token = RSA_KEY.sign(claims())
        assert client.simulate_get("/", headers=bearer(token)).status_code == 503
        idp.delay = 0
        time.sleep(0.15)
        assert client.simulate_get("/", headers=bearer(token)).status_code == 200


class TestMiddleware:
    def test_health_ready_and_the_api_description_need_no_token(
        self, client: falcon.testing.TestClient
    ) -> None:
        for path in ("/_health", "/_ready", "/openapi.json", "/docs", "/_health/"):
            assert client.simulate_get(path).status_code == 200, path
        for path in ("/_workflow", "/_views", "/_counts?by=status", "/_changes", "/nothing"):
            assert_refused(client.simulate_get(path))

    def test_a_user_set_by_an_earlier_middleware_is_left_as_it_is(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        class Session:
            def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
                if req.get_header("Cookie") == "session=ok":
                    req.context.user = {"profile": {"id": "from-session"}}

        app = create_app(
            flow, middleware=[Session()], authenticate=JwtBearer(jwks=idp.url, audience=AUDIENCE)
        )
        client = falcon.testing.TestClient(app)
        made = client.simulate_post("/", json={}, headers={"Cookie": "session=ok"})
        assert made.json["data"]["activityLog"][0]["changedBy"] == "from-session"
        assert_refused(client.simulate_post("/", json={}, headers={"Cookie": "session=no"}))
        assert idp.fetches == 0

    def test_the_reference_pages_files_need_no_token(
        self, client: falcon.testing.TestClient
    ) -> None:
        assert client.simulate_get("/docs/assets/docs.js").status_code == 200

    def test_with_a_sign_in_the_pages_are_left_to_it_and_the_api_still_wants_a_token(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        signin = OidcSignIn(
            issuer="http://127.0.0.1:9/realms/casework",  # never asked: no one signs in here
            client_id="taskflow",
            secret=b"s" * 32,
        )
        app = create_app(
            flow, signin=signin, authenticate=JwtBearer(jwks=idp.url, audience=AUDIENCE)
        )
        client = falcon.testing.TestClient(app)
        inbox = client.simulate_get("/ui/cases")
        assert inbox.status_code == 303  # to the sign-in, not a bearer challenge
        assert inbox.headers["location"].startswith("/ui/signin?next=")
        assert "WWW-Authenticate" not in client.simulate_post("/ui/signout").headers
        assert_refused(client.simulate_get("/"))
        assert_refused(client.simulate_get("/uix"))

    def test_without_a_sign_in_the_pages_want_a_token_too(
        self, client: falcon.testing.TestClient
    ) -> None:
        page = client.simulate_get("/ui/")
        assert page.status_code == 401
        assert page.headers["content-type"].startswith("text/html")

    def test_authenticate_takes_an_authenticator(self, flow: Taskflow) -> None:
        with pytest.raises(TypeError):
            create_app(flow, authenticate=object())  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="exactly one"):
            JwtBearer()


class TestTrustedHeaders:
    @pytest.fixture
    def client(self, flow: Taskflow) -> falcon.testing.TestClient:
        return falcon.testing.TestClient(create_app(flow, authenticate=TrustedHeaders()))

    def test_the_proxys_headers_make_the_user(
        self, flow: Taskflow, client: falcon.testing.TestClient
    ) -> None:
        seen: list[Any] = []
        flow.hook("create", lambda event: seen.append(event.meta["user"]))
        headers = {"X-Forwarded-User": "ann", "X-Forwarded-Groups": "clerks, admins,,"}
        assert client.simulate_post("/", json={}, headers=headers).status_code == 200
        assert seen == [{"profile": {"id": "ann"}, "roles": ["clerks", "admins"], "claims": {}}]

    def test_without_the_user_header_it_is_refused(self, client: falcon.testing.TestClient) -> None:
        assert_refused(client.simulate_get("/"))
        assert_refused(client.simulate_get("/", headers={"X-Forwarded-Groups": "admins"}))
        assert_refused(client.simulate_get("/", headers={"X-Forwarded-User": " "}))
        assert_refused(client.simulate_get("/", headers={"X-Forwarded-User": "a" * 300}))

    def test_other_header_names(self, flow: Taskflow) -> None:
        authenticate = TrustedHeaders(user="X-Auth-Request-User", roles=None)
        client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
        assert_refused(client.simulate_get("/", headers={"X-Forwarded-User": "ann"}))
        assert client.simulate_get("/", headers={"X-Auth-Request-User": "ann"}).status_code == 200


class TestSpoofedHeaders:
    def test_with_bearer_tokens_the_proxy_headers_are_ignored(
        self, client: falcon.testing.TestClient
    ) -> None:
        spoofed = {"X-Forwarded-User": "admin", "X-Forwarded-Groups": "admins"}
        assert_refused(client.simulate_post("/", json={}, headers=spoofed))
        token = RSA_KEY.sign(claims("ann"))
        made = client.simulate_post("/", json={}, headers={**spoofed, **bearer(token)})
        assert made.json["data"]["activityLog"][0]["changedBy"] == "ann"

    def test_without_an_authenticator_the_proxy_headers_are_ignored(self, flow: Taskflow) -> None:
        client = falcon.testing.TestClient(create_app(flow))
        made = client.simulate_post("/", json={}, headers={"X-Forwarded-User": "admin"})
        assert made.status_code == 200
        assert made.json["data"]["activityLog"][0]["changedBy"] is None


class TestVerifiedTokens:
    """The cache of verified tokens (taskflow_falcon/verified.py) skips only the signature:
    everything else about a token is judged again on each use."""

    def test_a_token_seen_again_is_answered_from_the_cache(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        authenticate = JwtBearer(jwks=idp.url, audience=AUDIENCE, issuer=ISSUER)
        client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
        token = EC_KEY.sign(claims("ann"))
        for _ in range(3):
            result = client.simulate_get("/", headers=bearer(token))
            assert result.status_code == 200, result.text
        assert authenticate.verified is not None
        assert len(authenticate.verified) == 1
        assert authenticate.verified.get(digest(token)) is not None

    def test_an_expired_token_is_refused_though_cached(self, flow: Taskflow) -> None:
        authenticate = JwtBearer(key=EC_KEY.private, audience=AUDIENCE, leeway=60)
        start = time.time()
        now = [start]
        authenticate.clock = lambda: now[0]
        client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
        token = EC_KEY.sign(claims(nbf=int(start) + 100, exp=int(start) + 200))
        assert_refused(client.simulate_get("/", headers=bearer(token)))  # not valid yet
        now[0] = start + 50  # within the leeway of nbf
        for _ in range(2):
            assert client.simulate_get("/", headers=bearer(token)).status_code == 200
        assert authenticate.verified is not None
        assert authenticate.verified.get(digest(token)) is not None
        now[0] = start + 262  # past exp and its leeway
        assert_refused(client.simulate_get("/", headers=bearer(token)))
        assert authenticate.verified.get(digest(token)) is None

    def test_a_token_of_a_withdrawn_key_is_refused_after_the_refresh(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        now = [0.0]
        _, client = keys_on_a_clock(flow, idp, now)
        withdrawn, kept = EC_KEY.sign(claims()), RSA_KEY.sign(claims())
        for token in (withdrawn, kept, withdrawn, kept):
            assert client.simulate_get("/", headers=bearer(token)).status_code == 200
        idp.keys.remove(EC_KEY)
        now[0] = 3601  # past max_age: the set is fetched again, without the EC key
        assert_refused(client.simulate_get("/", headers=bearer(withdrawn)))
        assert client.simulate_get("/", headers=bearer(kept)).status_code == 200
        assert idp.fetches == 2

    def test_a_key_replaced_under_the_same_kid_ends_its_tokens(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        now = [0.0]
        _, client = keys_on_a_clock(flow, idp, now)
        token = RSA_KEY.sign(claims())
        assert client.simulate_get("/", headers=bearer(token)).status_code == 200
        idp.keys[idp.keys.index(RSA_KEY)] = SigningKey.rsa(kid=RSA_KEY.kid)
        now[0] = 3601
        assert_refused(client.simulate_get("/", headers=bearer(token)))

    def test_a_cached_token_tampered_with_is_refused(
        self, client: falcon.testing.TestClient
    ) -> None:
        token = EC_KEY.sign(claims("ann"))
        assert client.simulate_get("/", headers=bearer(token)).status_code == 200
        header, payload, signature = token.split(".")
        mallory = base64.urlsafe_b64encode(json.dumps(claims("mallory")).encode())
        flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
        for tampered in (
            f"{header}.{mallory.decode().rstrip('=')}.{signature}",
            f"{header}.{payload}.{flipped}",
            f"{header}.{payload}.{signature[:-4]}",
        ):
            assert_refused(client.simulate_get("/", headers=bearer(tampered)))
        assert client.simulate_get("/", headers=bearer(token)).status_code == 200

    def test_the_cache_is_bounded_least_recently_used_dropped_first(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        authenticate = JwtBearer(jwks=idp.url, audience=AUDIENCE, token_cache=3)
        client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
        tokens = [RSA_KEY.sign(claims(f"user-{n}")) for n in range(5)]
        for token in (tokens[0], tokens[1], tokens[2], tokens[0], tokens[3], tokens[4]):
            assert client.simulate_get("/", headers=bearer(token)).status_code == 200
        cache = authenticate.verified
        assert cache is not None
        assert len(cache) == 3
        kept = [cache.get(digest(token)) is not None for token in tokens]
        assert kept == [True, False, False, True, True]

    def test_without_a_cache_every_token_is_verified_in_full(
        self, flow: Taskflow, idp: JwksServer
    ) -> None:
        authenticate = JwtBearer(jwks=idp.url, audience=AUDIENCE, token_cache=0)
        client = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
        assert client.simulate_get("/", headers=bearer(RSA_KEY.sign(claims()))).status_code == 200
        assert authenticate.verified is None
        for wrong in (-1, True, 1.5):
            with pytest.raises(ValueError, match="token_cache"):
                JwtBearer(jwks=idp.url, token_cache=wrong)


def test_no_token_ever_reaches_a_log(
    flow: Taskflow, idp: JwksServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = bearer_client(flow, idp.url)
    good = RSA_KEY.sign(claims("ann"))
    expired = RSA_KEY.sign(claims("ann", exp=int(time.time()) - 600))
    forged = hs256_token(claims(), RSA_KEY.public_pem(), kid=RSA_KEY.kid)
    unknown = SigningKey("nobody", "RS256", RSA_KEY.private).sign(claims())
    flow.hook("pre-update", lambda event: 1 / 0)  # a hook failing: its traceback is logged
    with caplog.at_level(logging.DEBUG):
        case = client.simulate_post("/", json={"a": 1}, headers=bearer(good)).json["data"]
        client.simulate_put(f"/{case['id']}", json={"data": {}}, headers=bearer(good))
        for token in (expired, forged, unknown, good[:-5]):
            client.simulate_get("/", headers=bearer(token))
            client.simulate_get(f"/?access_token={token}", headers=bearer(token))
        idp.delay = 2.0
        slow = bearer_client(flow, idp.url, timeout=0.2)
        assert slow.simulate_get("/", headers=bearer(good)).status_code == 503
    logged = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    assert "GET /" in logged  # the access log was captured
    assert "answered 503" in logged
    assert "Unhandled error" in logged
    for token in (good, expired, forged, unknown):
        for part in token.split("."):
            assert part not in logged
    stored = json.dumps(flow.get(case["id"]))
    assert all(part not in stored for part in good.split("."))
