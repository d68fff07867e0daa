#!/usr/bin/python3
"""The interop suite's protected page behind mod_shib (a CGI script).

Prints the interop Identity JSON from what Shibboleth extracted and
exported as environment variables: one variable per attribute id of
attribute-map.xml (next to this script), values joined with ";" and a ";"
inside a value escaped as "\\;". Apache only runs it for a request with a
Shibboleth session (Require shib-session); without one there is nothing
to print, and it says so with a 403, never with JSON.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

MAP_NS = "{urn:mace:shibboleth:2.0:attribute-map}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def split_values(raw):
    """Splits mod_shib's "a;b\\;c" into ["a", "b;c"]."""
    values, cur, i = [], [], 0
    while i < len(raw):
        c = raw[i]
        if c == "\\" and i + 1 < len(raw) and raw[i + 1] == ";":
            cur.append(";")
            i += 2
            continue
        if c == ";":
            values.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    values.append("".join(cur))
    return values


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = ET.parse(os.path.join(here, "attribute-map.xml")).getroot()
    ident = {"nameID": "", "nameIDFormat": "", "attributes": {}}
    for a in root.iter(MAP_NS + "Attribute"):
        name, aid = a.get("name"), a.get("id")
        raw = os.environ.get(aid)
        if raw is None:
            continue
        dec = a.find(MAP_NS + "AttributeDecoder")
        if dec is not None and dec.get(XSI_TYPE, "").endswith("NameIDAttributeDecoder"):
            # Mapped by Format: the <Attribute> name is the NameID's Format.
            ident["nameID"], ident["nameIDFormat"] = raw.replace("\\;", ";"), name
            continue
        ident["attributes"][name] = split_values(raw)
    # Apache turns the "-" of mod_shib's Shib-Session-ID into "_" for CGI.
    session = os.environ.get("Shib_Session_ID") or os.environ.get("Shib-Session-ID")
    if not session or not ident["nameID"]:
        sys.stdout.write("Status: 403 Forbidden\r\nContent-Type: text/plain\r\n\r\nno Shibboleth session\n")
        return
    body = json.dumps(ident, indent=1, sort_keys=True)
    sys.stdout.write("Content-Type: application/json\r\nCache-Control: no-store\r\n\r\n" + body + "\n")


main()
