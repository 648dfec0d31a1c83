"""HTTP client for the control plane; error answers become ControlPlaneResponseError."""

import logging
import threading
import time
from typing import Any

import requests

from agent_sdk.errors import ControlPlaneResponseError, ControlPlaneUnavailable

log = logging.getLogger(__name__)

_RETRYABLE = {502, 503, 504}


class ControlPlaneClient:
    """Talk JSON to the control plane over keep-alive sessions (one per thread)."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["User-Agent"] = "agentfield-celery-sdk/0.1"
            if self.api_key:
                session.headers["X-API-Key"] = self.api_key
            self._local.session = session
        return session

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None, timeout: float | None = None,
                ok: tuple[int, ...] = ()) -> requests.Response:
        """Send one request; return the response if 2xx (or listed in ``ok``).

        Raises:
            ControlPlaneUnavailable: the server could not be reached.
            ControlPlaneResponseError: any other status, with the server's error code.
        """
        try:
            response = self._session().request(
                method, self.base_url + path, json=body, headers=headers,
                timeout=(5.0, timeout or self.timeout))
        except requests.RequestException as exc:
            raise ControlPlaneUnavailable(
                f"cannot reach the control plane at {self.base_url}: {exc}") from exc
        if response.status_code < 300 or response.status_code in ok:
            return response
        raise _response_error(response)

    def post(self, path: str, body: dict | None = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post_with_retry(self, path: str, body: dict, deadline_s: float = 300.0,
                        ok: tuple[int, ...] = ()) -> requests.Response:
        """POST until it lands: retry transport errors and 502/503/504 with backoff."""
        give_up = time.monotonic() + deadline_s
        delay = 0.05
        while True:
            try:
                return self.post(path, body, ok=ok)
            except (ControlPlaneUnavailable, ControlPlaneResponseError) as exc:
                retryable = (isinstance(exc, ControlPlaneUnavailable)
                             or exc.status in _RETRYABLE)
                if not retryable or time.monotonic() + delay > give_up:
                    raise
                log.warning("POST %s failed (%s); retrying in %.2fs", path, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)


def _response_error(response: requests.Response) -> ControlPlaneResponseError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    error = body.get("error")
    code = error if isinstance(error, str) else f"http_{response.status_code}"
    message = body.get("message") or body.get("error") or response.text[:300] or response.reason
    return ControlPlaneResponseError(code, str(message), response.status_code,
                                     body.get("details") or {})
