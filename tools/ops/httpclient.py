"""A small HTTP/HTTPS client for the ops tools: one keep-alive connection
per Client (so one Client per thread), JSON in and out, any base URL
(http://host:port or https://name). Python standard library only."""

import http.client
import json
import ssl
import urllib.parse


class Response(tuple):
    """(status, headers with lower-case names, parsed JSON or None, raw
    bytes): the shape tests/fault/faultlib.py's requests return."""
    __slots__ = ()

    def __new__(cls, status, headers, body, raw):
        return tuple.__new__(cls, (status, headers, body, raw))

    status = property(lambda self: self[0])
    headers = property(lambda self: self[1])
    json = property(lambda self: self[2])
    raw = property(lambda self: self[3])

    def short(self, limit=300):
        raw = self.raw[:limit]
        return "HTTP %d %s%s" % (self.status, raw.decode("utf-8", "replace"),
                                 "..." if len(self.raw) > limit else "")


def parse_base(base_url):
    """(scheme, host, port, path prefix) of a base URL; raises ValueError."""
    u = urllib.parse.urlsplit(base_url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError("BASE_URL must be http://host[:port] or "
                         "https://host[:port], got %r" % base_url)
    port = u.port or (443 if u.scheme == "https" else 80)
    return u.scheme, u.hostname, port, u.path.rstrip("/")


class Client:
    """Requests against base_url over one reused connection; a broken
    connection is reopened once per request. Not thread-safe."""

    def __init__(self, base_url, timeout=30.0, verify_tls=True):
        self.scheme, self.host, self.port, self.prefix = parse_base(base_url)
        self.timeout = timeout
        self.ctx = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context()
            if not verify_tls:
                self.ctx.check_hostname = False
                self.ctx.verify_mode = ssl.CERT_NONE
        self.conn = None

    def _open(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port,
                                               timeout=self.timeout,
                                               context=self.ctx)
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=self.timeout)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=None,
                timeout=None, raw_body=None):
        """One request; body is encoded as JSON, raw_body sent as is (with
        a JSON Content-Type unless headers say otherwise). Raises OSError
        or http.client.HTTPException on transport failures."""
        h = {}
        data = None
        if raw_body is not None:
            data = raw_body
            h["Content-Type"] = "application/json"
        elif body is not None:
            data = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        if timeout is not None and timeout != self.timeout:
            self.close()
            self.timeout = timeout
        for attempt in (0, 1):
            fresh = self.conn is None
            if fresh:
                self.conn = self._open()
            try:
                self.conn.request(method, self.prefix + path, body=data,
                                  headers=h)
                r = self.conn.getresponse()
                raw = r.read()
                hdrs = {k.lower(): v for k, v in r.getheaders()}
                if (hdrs.get("connection") or "").lower() == "close":
                    self.close()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError, http.client.CannotSendRequest):
                # A kept-alive connection the server closed: retry once on
                # a new one; a fresh connection failing is a real failure.
                self.close()
                if fresh or attempt == 1:
                    raise
            except BaseException:
                self.close()
                raise
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else None
        except (ValueError, UnicodeDecodeError):
            parsed = None
        return Response(r.status, hdrs, parsed, raw)
