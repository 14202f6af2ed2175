"""The pages' OpenID Connect sign-in, against a real provider (npm's oidc-provider).

The app is served by a real WSGI server on a thread; a ``requests`` session plays the
browser, following redirects and filling in the provider's development login and consent
forms. One server and one provider serve the whole run (the provider must know the app's
callback URL before it starts); each test puts a fresh app, on a fresh store, behind it.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import socketserver
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import attrs
import falcon
import falcon.testing
import pytest
import requests

from taskflow_core import Taskflow
from taskflow_core.memory import MemoryStore
from taskflow_falcon import create_app
from taskflow_falcon.oidc import Provider, SignInFailed, pkce_pair
from taskflow_falcon.signin import SESSION_COOKIE, STATE_COOKIE, OidcSignIn
from tests.e2e.serving import free_port
from tests.support.oidc_browser import to_callback
from tests.support.oidc_provider import RunningProvider, start_provider

CLIENT_ID = "taskflow"
CLIENT_SECRET = "the test client's secret"
SESSION_SECRET = "the session cookies' test secret"
OTHER_CLIENT = "another-app"
OTHER_CALLBACK = "/another-app/callback"
PUBLIC_CLIENT = "taskflow-public"


class ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class Swappable:
    """The WSGI app the server runs: whichever app the current test put in it."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


class WhoAmI:
    """A test-only page echoing who the sign-in says is asking."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"user": getattr(req.context, "user", None)}

    on_post = on_get


@pytest.fixture(scope="session")
def pages_server() -> Iterator[tuple[str, Swappable]]:
    swappable = Swappable()
    server = make_server(
        "127.0.0.1", 0, swappable, server_class=ThreadingServer, handler_class=QuietHandler
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", swappable
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def provider(
    pages_server: tuple[str, Swappable], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningProvider]:
    url, _ = pages_server
    clients = [
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": [f"{url}/ui/auth/callback"],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
        },
        {
            # Another application at the same provider, whose ID tokens are signed ES256.
            "client_id": OTHER_CLIENT,
            "client_secret": "the other client's secret",
            "redirect_uris": [f"{url}{OTHER_CALLBACK}"],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
            "id_token_signed_response_alg": "ES256",
        },
        {
            # The pages as a public client: no secret, PKCE alone.
            "client_id": PUBLIC_CLIENT,
            "token_endpoint_auth_method": "none",
            "redirect_uris": [f"{url}/ui/auth/callback"],
            "response_types": ["code"],
            "grant_types": ["authorization_code"],
        },
    ]
    with start_provider(clients, tmp_path_factory.mktemp("oidc")) as running:
        yield running


@attrs.frozen
class Site:
    url: str
    flow: Taskflow
    signin: OidcSignIn
    app: Any


def make_site(url: str, provider: RunningProvider, store: MemoryStore, **options: Any) -> Site:
    flow = Taskflow(store)
    options = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, **options}
    signin = OidcSignIn(
        issuer=provider.issuer, secret=SESSION_SECRET, roles_claim="roles", **options
    )
    # Without the pages: their errors would be HTML, and these tests read the sign-in's own
    # answers (tests/ui and tests/e2e/test_serve_signin.py run the two together).
    app = create_app(flow, signin=signin, ui=False)
    app.add_route("/ui/whoami", WhoAmI())
    return Site(url, flow, signin, app)


@pytest.fixture
def site(
    pages_server: tuple[str, Swappable], provider: RunningProvider, memory_store: MemoryStore
) -> Site:
    url, swappable = pages_server
    made = make_site(url, provider, memory_store)
    swappable.app = made.app
    return made


# -- the browser -------------------------------------------------------------------------------


def sign_in(site: Site, login: str = "alice", page: str = "/ui/whoami") -> requests.Session:
    browser = requests.Session()
    callback = to_callback(browser, site.url + page, f"{site.url}/ui/auth/callback", login)
    landed = browser.get(callback)
    assert landed.status_code == 200, landed.text
    assert landed.url == site.url + page
    return browser


def session_cookie(browser: requests.Session) -> str:
    value = browser.cookies.get(SESSION_COOKIE)
    assert value
    return value


def fresh_browser(site: Site, cookie: str) -> requests.Session:
    """Another browser holding a copy of ``cookie`` (an attacker's, say)."""
    browser = requests.Session()
    browser.cookies.set(SESSION_COOKIE, cookie, domain="127.0.0.1", path="/ui")
    return browser


def assert_refused(site: Site, browser: requests.Session) -> None:
    """The pages treat ``browser`` as signed out: GET goes to the sign-in, POST is 401."""
    page = browser.get(site.url + "/ui/whoami", allow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/ui/signin?next=%2Fui%2Fwhoami"
    posted = browser.post(site.url + "/ui/whoami", allow_redirects=False)
    assert posted.status_code == 401
    assert posted.json()["message"]


# -- signing in --------------------------------------------------------------------------------


class TestSigningIn:
    def test_a_page_opened_signed_out_leads_through_the_provider_back_to_it_signed_in(
        self, site: Site
    ) -> None:
        browser = sign_in(site, "alice")
        user = browser.get(site.url + "/ui/whoami").json()["user"]
        assert user["profile"] == {"id": "alice"}
        assert user["roles"] == ["staff"]
        assert user["claims"]["email"] == "alice@example.org"
        assert user["claims"]["iss"] == site.signin.provider.issuer
        assert "nonce" not in user["claims"]

    def test_nothing_of_the_code_or_the_tokens_is_logged(
        self, site: Site, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        browser = requests.Session()
        callback = to_callback(browser, site.url + "/ui/whoami", f"{site.url}/ui/auth/callback")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
        assert browser.get(callback).status_code == 200
        cookie = session_cookie(browser)
        # The app's records (the test's own HTTP client logs its requests too).
        logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("taskflow"))
        assert "/ui/auth/callback?" in logged
        for secret in (query["code"], query["state"], cookie, cookie.split(".")[1]):
            assert secret not in logged

    def test_roles_come_from_the_roles_claim(self, site: Site) -> None:
        browser = sign_in(site, "admin")
        user = browser.post(site.url + "/ui/whoami").json()["user"]
        assert user["profile"]["id"] == "admin"
        assert user["roles"] == ["staff", "admin"]

    def test_a_public_client_signs_in_with_pkce_alone(
        self,
        pages_server: tuple[str, Swappable],
        provider: RunningProvider,
        memory_store: MemoryStore,
    ) -> None:
        url, swappable = pages_server
        public = make_site(url, provider, memory_store, client_id=PUBLIC_CLIENT, client_secret=None)
        swappable.app = public.app
        browser = sign_in(public)
        assert browser.get(url + "/ui/whoami").json()["user"]["profile"]["id"] == "alice"

    def test_another_claim_may_name_the_user(
        self,
        pages_server: tuple[str, Swappable],
        provider: RunningProvider,
        memory_store: MemoryStore,
    ) -> None:
        url, swappable = pages_server
        by_email = make_site(url, provider, memory_store, id_claim="email")
        swappable.app = by_email.app
        browser = sign_in(by_email, "carol")
        user = browser.get(url + "/ui/whoami").json()["user"]
        assert user["profile"] == {"id": "carol@example.org"}
        assert user["claims"]["sub"] == "carol"

    def test_the_return_address_keeps_the_query(self, site: Site) -> None:
        browser = sign_in(site, page="/ui/whoami?status=open&q=a%20b")
        assert browser.get(site.url + "/ui/whoami").json()["user"]["profile"]["id"] == "alice"

    def test_the_session_cookie_is_http_only_lax_for_the_pages_and_expires(
        self, site: Site
    ) -> None:
        browser = requests.Session()
        callback = to_callback(browser, site.url + "/ui/whoami", f"{site.url}/ui/auth/callback")
        landed = browser.get(callback, allow_redirects=False)
        assert landed.status_code == 303
        assert landed.headers["cache-control"] == "no-store"
        set_cookie = landed.raw.headers.getlist("Set-Cookie")
        session = next(c for c in set_cookie if c.startswith(f"{SESSION_COOKIE}="))
        attributes = {part.strip().split("=")[0].lower() for part in session.split(";")[1:]}
        assert {"httponly", "max-age", "path"} <= attributes
        assert "samesite=lax" in session.lower()
        assert "path=/ui;" in session.lower() + ";"
        assert "max-age=28800" in session.lower()
        # Plain HTTP on this machine: no Secure, or the browser would never send it back.
        assert "secure" not in attributes
        # The sign-in's state cookie goes away once used.
        assert any(c.startswith(f'{STATE_COOKIE}="";') for c in set_cookie)

    def test_cookies_are_secure_for_any_host_but_this_machine(self, site: Site) -> None:
        answer = requests.get(
            site.url + "/ui/signin",
            headers={"Host": "taskflow.example.org"},
            allow_redirects=False,
        )
        assert answer.status_code == 303
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{STATE_COOKIE}=")
        assert "secure" in [p.strip().lower() for p in cookie.split(";")]
        assert "httponly" in cookie.lower()

    def test_the_authorization_request_uses_pkce_state_and_nonce(self, site: Site) -> None:
        answer = requests.get(site.url + "/ui/signin", allow_redirects=False)
        location = urllib.parse.urlsplit(answer.headers["location"])
        params = dict(urllib.parse.parse_qsl(location.query))
        assert location.geturl().startswith(site.signin.provider.issuer + "/auth?")
        assert params["code_challenge_method"] == "S256"
        assert len(params["code_challenge"]) == 43
        assert params["state"]
        assert params["nonce"]
        assert params["redirect_uri"] == f"{site.url}/ui/auth/callback"
        assert params["scope"] == "openid profile email"

    def test_the_api_is_left_to_the_hosts_authentication(self, site: Site) -> None:
        assert requests.get(site.url + "/", allow_redirects=False).status_code == 200

    def test_a_discovery_document_naming_another_issuer_is_not_trusted(
        self,
        pages_server: tuple[str, Swappable],
        provider: RunningProvider,
        memory_store: MemoryStore,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        url, swappable = pages_server
        # The same server under another name: its document says it is 127.0.0.1.
        elsewhere = provider.issuer.replace("127.0.0.1", "localhost")
        swappable.app = make_site(url, RunningProvider(elsewhere, provider.log), memory_store).app
        answer = requests.get(url + "/ui/signin", allow_redirects=False)
        assert answer.status_code == 503
        assert "names another issuer" in caplog.text

    def test_a_provider_that_cannot_be_reached_answers_503(
        self, pages_server: tuple[str, Swappable], memory_store: MemoryStore
    ) -> None:
        url, swappable = pages_server
        down = RunningProvider(f"http://127.0.0.1:{free_port()}", Path("/dev/null"))
        swappable.app = make_site(url, down, memory_store).app
        answer = requests.get(url + "/ui/signin", allow_redirects=False, timeout=15)
        assert answer.status_code == 503
        assert answer.json()["message"]


class TestSignedOut:
    def test_a_page_without_a_session_sends_a_get_to_the_sign_in(self, site: Site) -> None:
        answer = requests.get(site.url + "/ui/whoami?a=1&b=%2F", allow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/signin?next=%2Fui%2Fwhoami%3Fa%3D1%26b%3D%252F"

    @pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
    def test_other_methods_without_a_session_get_401_not_a_redirect(
        self, site: Site, method: str
    ) -> None:
        answer = requests.request(method, site.url + "/ui/whoami", allow_redirects=False)
        assert answer.status_code == 401
        assert "location" not in answer.headers

    def test_signing_out_ends_the_session_and_a_kept_copy_of_its_cookie(
        self, site: Site, provider: RunningProvider, memory_store: MemoryStore
    ) -> None:
        browser = sign_in(site)
        kept = session_cookie(browser)
        out = browser.post(site.url + "/ui/signout", allow_redirects=False)
        assert out.status_code == 200
        assert "signed out" in out.text
        assert browser.cookies.get(SESSION_COOKIE) is None
        assert_refused(site, browser)
        assert_refused(site, fresh_browser(site, kept))
        # Another process serving the same store (another gunicorn worker) refuses it too.
        other_worker = falcon.testing.TestClient(make_site(site.url, provider, memory_store).app)
        answer = other_worker.simulate_get("/ui/whoami", cookies={SESSION_COOKIE: kept})
        assert answer.status_code == 303

    def test_signing_out_one_session_leaves_the_users_other_sessions(self, site: Site) -> None:
        laptop, phone = sign_in(site), sign_in(site)
        laptop.post(site.url + "/ui/signout")
        assert phone.get(site.url + "/ui/whoami").json()["user"]["profile"]["id"] == "alice"

    def test_signing_out_without_a_session_is_401(self, site: Site) -> None:
        assert requests.post(site.url + "/ui/signout").status_code == 401


# -- attacks -----------------------------------------------------------------------------------


def one_byte_changed(value: str, at: int) -> str:
    changed = "A" if value[at] != "A" else "B"
    return value[:at] + changed + value[at + 1 :]


class TestForgedCookies:
    @pytest.mark.parametrize("where", ["payload", "signature", "first", "last"])
    def test_a_cookie_with_one_byte_changed_is_refused(self, site: Site, where: str) -> None:
        cookie = session_cookie(sign_in(site))
        at = {
            "payload": cookie.index(".") // 2,
            "signature": cookie.index(".") + 5,
            "first": 0,
            "last": len(cookie) - 2,
        }[where]
        assert_refused(site, fresh_browser(site, one_byte_changed(cookie, at)))

    def test_an_expired_cookie_is_refused(self, site: Site) -> None:
        cookie = session_cookie(sign_in(site))
        payload = site.signin.signer.loads("session", cookie, datetime.now().astimezone())
        assert payload is not None
        payload.pop("exp")
        moment = datetime.now().astimezone() - timedelta(seconds=1)
        expired = site.signin.signer.dumps("session", payload, moment)
        assert_refused(site, fresh_browser(site, expired))

    def test_a_cookie_signed_with_another_secret_is_refused(self, site: Site) -> None:
        other = OidcSignIn(issuer=site.signin.provider.issuer, client_id=CLIENT_ID, secret="x" * 32)
        payload = {"sid": "made-up", "id": "mallory", "roles": ["admin"], "claims": {}}
        forged = other.signer.dumps(
            "session", payload, datetime.now().astimezone() + timedelta(hours=1)
        )
        assert_refused(site, fresh_browser(site, forged))

    def test_a_sign_in_state_cookie_is_not_a_session(self, site: Site) -> None:
        answer = requests.get(site.url + "/ui/signin", allow_redirects=False)
        state = answer.cookies[STATE_COOKIE]
        assert_refused(site, fresh_browser(site, state))


class TestForgedCallbacks:
    def test_a_callback_with_another_state_is_refused(self, site: Site) -> None:
        browser = requests.Session()
        callback = to_callback(browser, site.url + "/ui/signin", f"{site.url}/ui/auth/callback")
        wrong = re.sub(r"state=[^&]+", "state=not-the-one", callback)
        answer = browser.get(wrong, allow_redirects=False)
        assert answer.status_code == 400
        assert SESSION_COOKIE not in answer.cookies
        assert_refused(site, browser)

    def test_a_callback_naming_another_issuer_is_refused(self, site: Site) -> None:
        browser = requests.Session()
        callback = to_callback(browser, site.url + "/ui/signin", f"{site.url}/ui/auth/callback")
        assert "iss=" in callback
        mixed_up = re.sub(r"iss=[^&]+", "iss=https%3A%2F%2Fevil.example", callback)
        answer = browser.get(mixed_up, allow_redirects=False)
        assert answer.status_code == 400
        assert SESSION_COOKIE not in answer.cookies

    def test_a_callback_without_the_browsers_sign_in_cookie_is_refused(self, site: Site) -> None:
        callback = to_callback(
            requests.Session(), site.url + "/ui/signin", f"{site.url}/ui/auth/callback"
        )
        # The code reaches someone else's browser (a leaked URL): no state cookie there.
        answer = requests.get(callback, allow_redirects=False)
        assert answer.status_code == 400
        assert SESSION_COOKIE not in answer.cookies

    def test_a_replayed_callback_is_refused_and_its_code_too(self, site: Site) -> None:
        browser = requests.Session()
        callback = to_callback(browser, site.url + "/ui/signin", f"{site.url}/ui/auth/callback")
        state_cookie = browser.cookies[STATE_COOKIE]
        assert browser.get(callback, allow_redirects=False).status_code == 303
        replay = requests.Session()
        replay.cookies.set(STATE_COOKIE, state_cookie, domain="127.0.0.1", path="/ui/auth/callback")
        answer = replay.get(callback, allow_redirects=False)
        assert answer.status_code == 400
        assert SESSION_COOKIE not in answer.cookies
        # And the provider itself will not trade the code a second time.
        pending = site.signin.signer.loads("signin", state_cookie, datetime.now().astimezone())
        assert pending is not None
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]
        with pytest.raises(SignInFailed, match="invalid_grant"):
            site.signin.provider.exchange(code, pending["redirect_uri"], pending["verifier"])

    def test_a_code_is_not_traded_without_its_pkce_verifier(self, site: Site) -> None:
        browser = requests.Session()
        callback = to_callback(browser, site.url + "/ui/signin", f"{site.url}/ui/auth/callback")
        code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]
        verifier, _ = pkce_pair()
        with pytest.raises(SignInFailed, match="invalid_grant"):
            site.signin.provider.exchange(code, f"{site.url}/ui/auth/callback", verifier)


def other_apps_id_token(site: Site) -> tuple[str, str]:
    """An ID token the provider issued to another application (ES256), and its nonce."""
    other = Provider(site.signin.provider.issuer, OTHER_CLIENT, "the other client's secret")
    verifier, challenge = pkce_pair()
    nonce = "the other app's nonce"
    redirect_uri = f"{site.url}{OTHER_CALLBACK}"
    start = other.authorization_url(
        {
            "response_type": "code",
            "client_id": OTHER_CLIENT,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": "s",
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    callback = to_callback(requests.Session(), start, redirect_uri)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))["code"]
    token: str = other.exchange(code, redirect_uri, verifier)["id_token"]
    assert other.verify_id_token(token, nonce)["aud"] == OTHER_CLIENT
    return token, nonce


class TestForeignIdTokens:
    def test_an_id_token_for_another_audience_is_refused(self, site: Site) -> None:
        token, nonce = other_apps_id_token(site)
        with pytest.raises(SignInFailed, match="InvalidAudience"):
            site.signin.provider.verify_id_token(token, nonce)

    def test_an_id_token_with_another_nonce_is_refused(self, site: Site) -> None:
        token, _ = other_apps_id_token(site)
        other = Provider(site.signin.provider.issuer, OTHER_CLIENT, None)
        with pytest.raises(SignInFailed, match="nonce"):
            other.verify_id_token(token, "a nonce from another sign-in")

    def test_an_unsigned_copy_of_an_id_token_is_refused(self, site: Site) -> None:
        token, nonce = other_apps_id_token(site)
        header, payload, _ = token.split(".")
        kid = json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]
        # alg "none", the key id kept so that the key lookup finds the provider's key.
        unsigned = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": kid}).encode())
        other = Provider(site.signin.provider.issuer, OTHER_CLIENT, None)
        with pytest.raises(SignInFailed):
            other.verify_id_token(f"{unsigned.decode().rstrip('=')}.{payload}.", nonce)
        with pytest.raises(SignInFailed):
            other.verify_id_token(f"{header}.{payload}.", nonce)


class TestOpenRedirects:
    @pytest.mark.parametrize(
        "address",
        [
            "//evil.example/ui/",
            "https://evil.example/ui/",
            "/\\evil.example",
            "\\\\evil.example",
            "/%2F%2Fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%252F%252Fevil.example",
            "/ui/%2F..%2F..%2F%2Fevil.example",
            "https:evil.example",
            "/ui@evil.example",
            " //evil.example",
            "/\t/evil.example",
            "javascript:alert(1)",
        ],
    )
    def test_a_return_address_elsewhere_lands_on_the_inbox(self, site: Site, address: str) -> None:
        browser = requests.Session()
        start = f"{site.url}/ui/signin?next={urllib.parse.quote(address, safe='')}"
        callback = to_callback(browser, start, f"{site.url}/ui/auth/callback")
        answer = browser.get(callback, allow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/ui/"
