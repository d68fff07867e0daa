#!/usr/bin/python3
"""The interop suite's protected page behind mod_auth_mellon (a CGI script).

Prints the interop Identity JSON from what mellon extracted from the
assertion and exported as environment variables:

- MELLON_NAME_ID: the NameID's value;
- MELLON_attr_<hex of the SAML Name>_N and ..._0, ..._1, ...: the values of
  each attribute apache2.conf maps with MellonSetEnv (the hex keeps names
  like nin.type intact through Apache's CGI environment);
- MELLON_SESSION: mellon's dump of the Lasso session, base64, which holds
  the assertion Lasso accepted; the NameID's Format is read from there
  (mellon exports no variable for it), from the NameID whose value is
  MELLON_NAME_ID.

Any other attribute (one apache2.conf does not map) is shown under the
name Apache gave its variable, MELLON_ stripped. Apache only runs this for
a request with a mellon session (Require valid-user); without a NameID
there is nothing to print, and it says so with a 403, never with JSON.
"""
import base64
import binascii
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

SAML_NS = "urn:oasis:names:tc:SAML:2.0:assertion"
PREFIX = "MELLON_"
# Variables mellon sets that are not attributes of the assertion: the
# NameID, the assertion's ID, the IdP's entityID (MellonIdP), the dumps.
NOT_ATTRIBUTES = {"NAME_ID", "ASSERTION_ID", "IDP", "SESSION", "SAML_RESPONSE"}


def values(env, name):
    """The values of MELLON_<name>, from its _N count and _0..._N-1."""
    count = env.get(PREFIX + name + "_N")
    if count is None:
        return None
    return [env.get("%s%s_%d" % (PREFIX, name, i), "") for i in range(int(count))]


def name_id_format(name_id):
    """The Format of the NameID in the Lasso session whose value is name_id."""
    raw = os.environ.get("MELLON_SESSION")
    if not raw:
        return ""
    try:
        root = ET.fromstring(base64.b64decode(raw))
    except (binascii.Error, ET.ParseError):
        return ""
    formats = {n.get("Format", "") for n in root.iter("{%s}NameID" % SAML_NS) if (n.text or "") == name_id}
    return formats.pop() if len(formats) == 1 else ""


def main():
    env = os.environ
    name_id = env.get("MELLON_NAME_ID")
    if not name_id:
        sys.stdout.write("Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno mellon session\n")
        return
    ident = {"nameID": name_id, "nameIDFormat": name_id_format(name_id), "attributes": {}}
    for var in sorted(env):
        m = re.fullmatch(PREFIX + r"(.+)_N", var)
        if not m or m.group(1) in NOT_ATTRIBUTES:
            continue
        local = m.group(1)
        name = local
        h = re.fullmatch(r"attr_([0-9a-f]+)", local)
        if h:
            name = bytes.fromhex(h.group(1)).decode("utf-8")
        ident["attributes"][name] = values(env, local)
    body = json.dumps(ident, indent=1, sort_keys=True)
    sys.stdout.write("Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n" + body + "\n")


main()
