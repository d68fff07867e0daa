"""sp.py is the "SP application" for the interop suite's pysaml2 peer.

A tiny HTTP server around pysaml2's Saml2Client, run with Debian's
/usr/bin/python3 and python3-pysaml2:

  GET  /metadata  the SP's own metadata (signing + encryption key)
  GET  /login     AuthnRequest (Redirect binding); the request ID is kept in
                  a server-side session keyed by a cookie
  POST /acs       parse_authn_request_response with outstanding={reqid: ...}
                  from the session; 302 to /whoami, or 403 with pysaml2's
                  error message
  GET  /whoami    the identity pysaml2 extracted, as JSON; 401 if none

Usage: python3 sp.py <config.json>  (written by interop/sp_pysaml2.go)
"""

import http.cookies
import json
import logging
import secrets
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_UNSPECIFIED

COOKIE = "pysaml2_sid"

# pysaml2 logs whole SAML messages (and attribute values) at DEBUG and INFO;
# the suite never logs SAML messages whole.
logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                    format="pysaml2-sp: %(levelname)s %(name)s: %(message)s")
logging.getLogger("saml2").setLevel(logging.CRITICAL)


def log(msg):
    print("pysaml2-sp: " + msg, file=sys.stderr, flush=True)


def build_config(cfg):
    base = "http://127.0.0.1:%d" % cfg["port"]
    c = SPConfig()
    c.load({
        "entityid": base + "/metadata",
        "name": "pysaml2 interop SP",
        "xmlsec_binary": cfg["xmlsec1"],
        "metadata": {"local": [cfg["idp_metadata"]]},
        "key_file": cfg["key_file"],
        "cert_file": cfg["cert_file"],
        "encryption_keypairs": [{"key_file": cfg["enc_key_file"], "cert_file": cfg["enc_cert_file"]}],
        "accepted_time_diff": 5,
        # The bridge's attributes carry no NameFormat (unspecified), and
        # none of its names is in pysaml2's attribute maps: without this,
        # pysaml2 drops every one of them. With it, they keep their names.
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(base + "/acs", BINDING_HTTP_POST)],
                },
                "want_assertions_signed": True,
                # The bridge signs the assertion, not the Response.
                "want_response_signed": False,
                "allow_unsolicited": False,
                "authn_requests_signed": False,
                # Requested in metadata under their own names (no URI
                # mapping), so that the bridge knows what this SP wants.
                "requested_attribute_name_format": NAME_FORMAT_UNSPECIFIED,
                "optional_attributes": cfg["requested_attributes"],
            },
        },
    })
    return base, c


class Store:
    """Server-side sessions keyed by a cookie value."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = {}

    def get(self, sid):
        with self.lock:
            return self.sessions.get(sid)

    def new(self):
        sid = secrets.token_urlsafe(18)
        with self.lock:
            self.sessions[sid] = {}
        return sid, self.sessions[sid]


def make_handler(base, client, conf, store):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # one line per request, no query
            log("%s %s -> %s" % (self.command, self.path.split("?")[0], args[1] if len(args) > 1 else ""))

        def session(self):
            jar = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
            if COOKIE in jar:
                s = store.get(jar[COOKIE].value)
                if s is not None:
                    return s, None
            sid, s = store.new()
            return s, "%s=%s; Path=/; HttpOnly; SameSite=None" % (COOKIE, sid)

        def send(self, status, ctype, body, headers=None, cookie=None):
            data = body.encode("utf-8") if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            if cookie:
                self.send_header("Set-Cookie", cookie)
            for k, v in (headers or []):
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path
            if path == "/metadata":
                md = create_metadata_string(None, config=conf)
                return self.send(200, "application/samlmetadata+xml",
                                 md if isinstance(md, bytes) else md.encode("utf-8"))
            if path == "/login":
                s, cookie = self.session()
                reqid, info = client.prepare_for_authenticate(binding=BINDING_HTTP_REDIRECT, relay_state="")
                s["reqid"] = reqid
                s.pop("identity", None)
                location = dict(info["headers"])["Location"]
                return self.send(302, "text/plain", "", headers=[("Location", location)], cookie=cookie)
            if path == "/whoami":
                s, cookie = self.session()
                if "identity" not in s:
                    return self.send(401, "text/plain; charset=utf-8", "not logged in\n", cookie=cookie)
                return self.send(200, "application/json", json.dumps(s["identity"]), cookie=cookie)
            return self.send(404, "text/plain; charset=utf-8", "not found\n")

        def do_POST(self):
            path = urllib.parse.urlsplit(self.path).path
            n = int(self.headers.get("Content-Length") or 0)
            if n > 4 << 20:
                return self.send(413, "text/plain; charset=utf-8", "too large\n")
            body = self.rfile.read(n).decode("utf-8", "replace")
            if path != "/acs":
                return self.send(404, "text/plain; charset=utf-8", "not found\n")
            s, cookie = self.session()
            reqid = s.pop("reqid", None)
            outstanding = {reqid: "/whoami"} if reqid else {}
            form = urllib.parse.parse_qs(body)
            try:
                b64 = form.get("SAMLResponse", [""])[0]
                if not b64:
                    raise ValueError("no SAMLResponse in the form")
                r = client.parse_authn_request_response(b64, BINDING_HTTP_POST, outstanding=outstanding)
                if r is None:
                    raise ValueError("pysaml2 returned no response")
                if r.in_response_to != reqid or reqid is None:
                    raise ValueError("the response answers no request of this browser session")
                # pysaml2 7.0.1 ignores the result of response.verify() in
                # Entity._parse_response: a Response whose Destination is
                # not our ACS comes back without an error but with no
                # assertion parsed. Only a parsed assertion is a login.
                if r.assertion is None or r.name_id is None:
                    raise ValueError("pysaml2 verified no assertion in the response (wrong Destination?)")
                name_id = r.name_id
                ava = r.ava or {}
            except Exception as e:  # pysaml2 raises many types; all are a refusal
                msg = "%s: %s" % (type(e).__name__, e)
                log("response rejected: " + msg.splitlines()[0][:300])
                return self.send(403, "text/plain; charset=utf-8", "rejected: %s\n" % msg, cookie=cookie)
            attributes = {}
            for name, values in ava.items():
                attributes[name] = [v if isinstance(v, str) else json.dumps(v) for v in values]
            s["identity"] = {
                "nameID": name_id.text if name_id is not None else "",
                "nameIDFormat": (name_id.format or "") if name_id is not None else "",
                "attributes": attributes,
            }
            log("accepted a response, NameID format %s, attributes %s"
                % (s["identity"]["nameIDFormat"], " ".join(attributes)))
            return self.send(302, "text/plain", "", headers=[("Location", "/whoami")], cookie=cookie)

    return Handler


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        cfg = json.load(f)
    base, conf = build_config(cfg)
    client = Saml2Client(config=conf)
    server = ThreadingHTTPServer(("127.0.0.1", cfg["port"]), make_handler(base, client, conf, Store()))
    server.daemon_threads = True
    log("listening on " + base)
    server.serve_forever()


if __name__ == "__main__":
    main()
