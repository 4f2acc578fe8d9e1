"""Staff accounts and signed-in browsers for the gateway tests."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.staff import StaffDirectory

PASSWORD = "青山-绿水-7391-遵义"


def add_account(running: TestClient, login: str, name: str, *roles: str) -> None:
    """Made as `python -m services users add` makes it, in the app ``running`` serves."""
    directory: StaffDirectory = running.app.state.staff  # type: ignore[attr-defined]
    directory.add(login, name, roles, PASSWORD, actor="cli:test")


def browser(running: TestClient, *, secure: bool = False) -> TestClient:
    """Another browser (a cookie jar of its own) on the app ``running`` serves, on the same event
    loop, where the app's lifespan made its HTTP clients and background tasks. HTTPS when the
    session cookie is Secure: a browser would not send it over plain HTTP."""
    other = TestClient(running.app, base_url="https://testserver" if secure else "http://testserver")
    other.portal = running.portal
    return other


def sign_in(running: TestClient, login: str, *, secure: bool = False) -> TestClient:
    """A browser signed in as ``login`` whose writes carry the session's CSRF token, as the console's."""
    client = browser(running, secure=secure)
    response = client.post("/api/staff/login", json={"login": login, "password": PASSWORD})
    assert response.status_code == 200, response.text
    client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
    return client


def socket_headers(client: TestClient) -> dict[str, str]:
    """The browser's cookies for a WebSocket handshake: the test client opens sockets as ws://,
    to which its cookie jar will not give a Secure cookie (a browser on wss:// would)."""
    return {"cookie": "; ".join(f"{cookie.name}={cookie.value}" for cookie in client.cookies.jar)}
