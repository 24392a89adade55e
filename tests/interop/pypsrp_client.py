"""An independent WinRM client for hvinv's simulator: pypsrp's WSMan class
runs one WQL select (Enumerate, then Pull until EndOfSequence) and prints the
instances as JSON on stdout.

Usage (non-secret options only; the account comes from the environment):
    HVINV_INTEROP_USER=... HVINV_INTEROP_PASSWORD=... \
    python pypsrp_client.py --port N [--ssl --ca PEM] [--auth ntlm|negotiate] \
        [--namespace root/cimv2] --wql "SELECT * FROM Win32_Processor"

Output, one JSON object:
    {"ok": true, "enumerate_items": n, "pulls": n, "instances": [
        {"class": "...", "resource_uri": "...", "props": {"Name": "x", "Arr": ["a", "b"], "Nil": null,
         "When": {"datetime": "..."}, "Emb": {"class": ..., "props": {...}}}}]}
    {"ok": false, "error": "auth" | "fault" | "transport" | "other", "type": "...", "message": "...", "code": ...}
Exit status 0 for ok, 2 for a reported error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import xml.etree.ElementTree as ET

from pypsrp.exceptions import AuthenticationError, WinRMTransportError, WSManFaultError
from pypsrp.wsman import NAMESPACES, WSMan

WSEN = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
WMI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
# A bound on Pulls, so a peer that never ends the sequence cannot hang us.
MAX_PULLS = 10_000


def split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


def value_of(el: ET.Element):
    if el.get(XSI_NIL) in ("true", "1"):
        return None
    children = list(el)
    if not children:
        return el.text or ""
    first = children[0]
    ns, local = split(first.tag)
    if ns == CIM and local in ("Datetime", "Interval"):
        return {local.lower(): first.text or ""}
    if local in ("Address", "ReferenceParameters"):
        return {"reference": ET.tostring(el, encoding="unicode")}
    return instance_of(first)


def instance_of(el: ET.Element) -> dict:
    ns, local = split(el.tag)
    grouped: dict[str, list] = {}
    for child in el:
        _, name = split(child.tag)
        grouped.setdefault(name, []).append(value_of(child))
    # CIM arrays are repeated sibling elements; one element stays a scalar.
    props = {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}
    return {"class": local, "resource_uri": ns, "props": props}


def items_of(parent: ET.Element | None) -> list[dict]:
    if parent is None:
        return []
    return [instance_of(item) for item in parent]


def enumerate_wql(wsman: WSMan, namespace: str, wql: str, max_elements: int) -> dict:
    resource_uri = WMI_PREFIX + namespace.strip("/").replace("\\", "/") + "/*"
    enum = ET.Element("{%s}Enumerate" % WSEN)
    ET.SubElement(enum, "{%s}OptimizeEnumeration" % WSMAN)
    ET.SubElement(enum, "{%s}MaxElements" % WSMAN).text = str(max_elements)
    ET.SubElement(enum, "{%s}Filter" % WSMAN, Dialect=WQL_DIALECT).text = wql

    body = wsman.enumerate(resource_uri, enum)
    response = body.find("wsen:EnumerateResponse", NAMESPACES)
    if response is None:
        raise ValueError("no EnumerateResponse in the reply")
    # Items and EndOfSequence are in the wsman namespace in an EnumerateResponse.
    instances = items_of(response.find("wsman:Items", NAMESPACES))
    enumerate_items = len(instances)
    done = response.find("wsman:EndOfSequence", NAMESPACES) is not None
    context = (response.findtext("wsen:EnumerationContext", default="", namespaces=NAMESPACES) or "").strip()
    pulls = 0
    while not done:
        if not context:
            raise ValueError("no EnumerationContext and no EndOfSequence")
        if pulls >= MAX_PULLS:
            raise ValueError("too many Pulls")
        pull = ET.Element("{%s}Pull" % WSEN)
        ET.SubElement(pull, "{%s}EnumerationContext" % WSEN).text = context
        ET.SubElement(pull, "{%s}MaxElements" % WSEN).text = str(max_elements)
        body = wsman.pull(resource_uri, pull)
        pulls += 1
        response = body.find("wsen:PullResponse", NAMESPACES)
        if response is None:
            raise ValueError("no PullResponse in the reply")
        instances.extend(items_of(response.find("wsen:Items", NAMESPACES)))
        done = response.find("wsen:EndOfSequence", NAMESPACES) is not None
        context = (response.findtext("wsen:EnumerationContext", default="", namespaces=NAMESPACES) or "").strip()
    return {"ok": True, "enumerate_items": enumerate_items, "pulls": pulls, "instances": instances}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ssl", action="store_true")
    ap.add_argument("--ca", help="PEM CA file to trust (HTTPS)")
    ap.add_argument("--auth", default="ntlm", choices=["ntlm", "negotiate"])
    ap.add_argument("--encryption", default="auto", choices=["auto", "always", "never"])
    ap.add_argument("--namespace", default="root/cimv2")
    ap.add_argument("--wql", required=True)
    ap.add_argument("--max-elements", type=int, default=32000)
    ap.add_argument("--repeat", type=int, default=1, help="run the select this many times on one session")
    args = ap.parse_args()

    user = os.environ.get("HVINV_INTEROP_USER")
    password = os.environ.get("HVINV_INTEROP_PASSWORD")
    if not user or password is None:
        print("pypsrp_client: HVINV_INTEROP_USER and HVINV_INTEROP_PASSWORD must be set", file=sys.stderr)
        return 64

    wsman = WSMan(
        args.host,
        port=args.port,
        ssl=args.ssl,
        auth=args.auth,
        encryption=args.encryption,
        cert_validation=args.ca if args.ca else True,
        username=user,
        password=password,
        no_proxy=True,
        connection_timeout=10,
        read_timeout=20,
        operation_timeout=10,
    )
    try:
        with wsman:
            result: dict = {}
            for _ in range(max(1, args.repeat)):
                result = enumerate_wql(wsman, args.namespace, args.wql, args.max_elements)
    except AuthenticationError as e:
        result = {"ok": False, "error": "auth", "type": type(e).__name__, "message": str(e)}
    except WSManFaultError as e:
        result = {"ok": False, "error": "fault", "type": type(e).__name__, "message": e.reason, "code": e.code}
    except WinRMTransportError as e:
        result = {"ok": False, "error": "transport", "type": type(e).__name__, "message": str(e), "code": e.code}
    except Exception as e:  # noqa: BLE001 - any other failure is reported, not raised
        result = {"ok": False, "error": "other", "type": type(e).__name__, "message": str(e)}
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0 if result.get("ok") else 2


if __name__ == "__main__":
    sys.exit(main())
