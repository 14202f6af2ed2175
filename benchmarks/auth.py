"""What verifying a bearer token costs a request (docs/access.md; the target of issue 27:
at most 0.15 ms of CPU per request with the key cached).

python -m benchmarks.auth [--requests 500] [--rounds 20]

The same app (the in-memory store, one case) answers ``GET /{id}`` through falcon's test
client, without authentication and with ``JwtBearer``, in alternating rounds of the same
run; each round's CPU time (``time.process_time``) is divided by its requests. On a machine
shared with other work a round's figure swings by half, so the least disturbed round of each
(min) is reported beside the medians, and ``authenticate(req)`` timed alone as a
cross-check. A client sends the same token until it expires, so by default the token is
verified in full once and then found in ``JwtBearer``'s cache of verified tokens (its
claims, exp, nbf, aud and iss checked again on every request, the signature not:
taskflow_falcon/verified.py); the ``token_cache=0`` variants verify the signature on every
request, as a token seen for the first time is. Variants: RS256 with the key given
(``key=``), RS256 with the keys from a JWKS served by a local HTTP server (fetched once,
then cached), and ES256 with the key given, each with the cache and without.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import falcon.testing
import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import RSAAlgorithm

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app
from taskflow_falcon.auth import Authenticator, JwtBearer

AUDIENCE = "taskflow"
ISSUER = "https://idp.example/realms/bench"


def token_for(private: Any, algorithm: str) -> str:
    now = int(time.time())
    claims = {"sub": "ann", "aud": AUDIENCE, "iss": ISSUER, "iat": now, "exp": now + 3600}
    claims["realm_access"] = {"roles": ["clerk"]}
    return jwt.encode(claims, private, algorithm=algorithm, headers={"kid": "k1"})


def serve_jwks(private: rsa.RSAPrivateKey) -> tuple[str, Callable[[], None]]:
    """A JWKS of ``private``'s public key on a local port; its URL, and how to stop it."""
    body = json.dumps(
        {"keys": [{**json.loads(RSAAlgorithm.to_jwk(private.public_key())), "kid": "k1"}]}
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}/jwks", stop


def cpu_per_request(
    client: falcon.testing.TestClient, path: str, headers: dict[str, str], n: int
) -> float:
    """Milliseconds of this process's CPU per ``GET path``."""
    started = time.process_time()
    for _ in range(n):
        result = client.simulate_get(path, headers=headers)
    spent = time.process_time() - started
    assert result.status_code == 200, result.text
    return spent / n * 1000


def measure(
    flow: Taskflow, case_id: str, authenticate: Authenticator, token: str, n: int, rounds: int
) -> tuple[list[float], list[float]]:
    """ms of CPU per request without and with ``authenticate``, one figure per round."""
    plain = falcon.testing.TestClient(create_app(flow))
    authed = falcon.testing.TestClient(create_app(flow, authenticate=authenticate))
    headers = {"Authorization": f"Bearer {token}"}
    path = f"/{case_id}"
    # Warm both (and fetch the JWKS once), then alternate short rounds, so that what else
    # the machine does weighs on both alike.
    # The plain app gets the same header (and ignores it): building the request is the test
    # client's work, in this same process, and must weigh the same on both.
    cpu_per_request(plain, path, headers, 200)
    cpu_per_request(authed, path, headers, 200)
    without, with_ = [], []
    for _ in range(rounds):
        without.append(cpu_per_request(plain, path, headers, n))
        with_.append(cpu_per_request(authed, path, headers, n))
    return without, with_


def authenticate_alone(authenticate: Authenticator, token: str, n: int) -> float:
    """ms of CPU per ``authenticate(req)`` call, outside any app: a cross-check."""
    req = falcon.testing.create_req(headers={"Authorization": f"Bearer {token}"})
    started = time.process_time()
    for _ in range(n):
        authenticate.authenticate(req)
    return (time.process_time() - started) / n * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="requests per round")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    flow = Taskflow(MemoryStore())
    case_id = flow.create({"title": "a case", "org": "acme"})["id"]
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    url, stop = serve_jwks(rsa_key)
    try:
        variants = []
        for name, key, private, algorithm, cache in (
            ("RS256, key=", rsa_key.public_key(), rsa_key, "RS256", True),
            ("RS256, jwks= (keys cached)", None, rsa_key, "RS256", True),
            ("ES256, key=", ec_key.public_key(), ec_key, "ES256", True),
            ("RS256, key=, token_cache=0", rsa_key.public_key(), rsa_key, "RS256", False),
            ("RS256, jwks=, token_cache=0", None, rsa_key, "RS256", False),
            ("ES256, key=, token_cache=0", ec_key.public_key(), ec_key, "ES256", False),
        ):
            options: dict[str, Any] = {"audience": AUDIENCE, "issuer": ISSUER}
            options.update({"jwks": url} if key is None else {"key": key})
            options.update({} if cache else {"token_cache": 0})
            variants.append((name, JwtBearer(**options), token_for(private, algorithm)))
        print(f"GET /{{id}}, {args.requests} requests x {args.rounds} rounds, CPU ms per request")
        print("(min: the least disturbed round; median: a typical one)")
        print("| variant | without | with JwtBearer | added (min) | added (median) | alone |")
        print("|---|---|---|---|---|---|")
        for name, authenticate, token in variants:
            without, with_ = measure(flow, case_id, authenticate, token, args.requests, args.rounds)
            alone = min(authenticate_alone(authenticate, token, args.requests) for _ in range(3))
            low, typical = (
                min(with_) - min(without),
                statistics.median(with_) - statistics.median(without),
            )
            print(
                f"| {name} | {min(without):.3f} | {min(with_):.3f} | {low:.3f} | {typical:.3f}"
                f" | {alone:.3f} |"
            )
    finally:
        stop()


if __name__ == "__main__":
    main()
