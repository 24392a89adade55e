"""An independent WinRM peer for hvinv's client: pyspnego's NTLM/SPNEGO
acceptor plus WinRM message sealing, answering WS-Man Enumerate/Pull with
canned instances.

Our client and our simulator are written by the same hands, so they can agree
on the same mistake; this server's authentication, signature and sequence
checks come from pyspnego, not from us.

Usage (non-secret options only; the account comes from the environment):
    HVINV_INTEROP_USER=... HVINV_INTEROP_PASSWORD=... [HVINV_INTEROP_DOMAIN=...]
    python winrm_server.py [--tls-cert PEM --tls-key PEM] [--require-cbt]

Prints "PORT <n>" on stdout once listening on 127.0.0.1. When stdin closes
(the test is done, or gone) it prints "STATS <json counters>" and exits; it
also exits after --lifetime seconds. `--print-estate` prints the canned
instances as JSON (the definition tests compare against) and exits.

WQL classes it knows (resource URI must be .../wmi/root/cimv2/*):
  Win32_OperatingSystem  5 canned instances, pages of 2 (full or XmlFragment)
  Hvinv_Bulk             400 instances of ~1 KB, pages of 100
  Hvinv_AccessDenied     sealed fault w:AccessDenied, WSManFault Code 5
  Hvinv_Stall            answered only after 8 s (client timeouts)
  anything else          sealed fault CannotProcessFilter with a ProviderFault
`--drop-after N` closes each connection silently after N replies.

Besides POST /wsman it answers GET /stats and GET /estate over plain HTTP.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import socket
import ssl
import struct
import sys
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import spnego
import spnego.exceptions
from spnego.channel_bindings import GssChannelBindings

from pypsrp.encryption import WinRMEncryption

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsa": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "wsen": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "wsman": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "wsmid": "http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd",
}
ENUM = NS["wsen"]
ACTION_ENUMERATE = ENUM + "/Enumerate"
ACTION_PULL = ENUM + "/Pull"
ACTION_RELEASE = ENUM + "/Release"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
WMI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
CIMV2_ALL = WMI_PREFIX + "root/cimv2/*"
SPNEGO_ENCRYPTED = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = "Encrypted Boundary"
# Items per Enumerate/Pull page: small, so a few instances span several pages.
PAGE_SIZE = 2
MACHINE = "interop-peer.example.test"

# The canned Win32_OperatingSystem-like instances. Values are Python data:
# None = xsi:nil, list = repeated elements (CIM array), {"datetime": s} =
# <cim:Datetime>. Text includes characters that need escaping and non-ASCII.
ESTATE = [
    {
        "Caption": "Microsoft Windows Server 2022 Datacenter",
        "Version": "10.0.20348",
        "BuildNumber": "20348",
        "CSName": "HV-NODE-01",
        "Description": "Host A & B <primary>",
        "InstallDate": {"datetime": "2023-05-17T09:12:44Z"},
        "MUILanguages": ["en-US", "fr-FR"],
        "OtherTypeDescription": None,
        "NumberOfProcesses": "142",
    },
    {
        "Caption": "Microsoft Windows Server 2019 Standard",
        "Version": "10.0.17763",
        "BuildNumber": "17763",
        "CSName": "HV-NODE-02",
        "Description": "Serveur de virtualisation \u00e9t\u00e9",
        "InstallDate": {"datetime": "2020-01-02T03:04:05.123456+01:00"},
        "MUILanguages": ["en-US"],
        "OtherTypeDescription": None,
        "NumberOfProcesses": "97",
    },
    {
        "Caption": "Microsoft Windows Server 2016 Datacenter",
        "Version": "10.0.14393",
        "BuildNumber": "14393",
        "CSName": "HV-NODE-03",
        "Description": "",
        "InstallDate": {"datetime": "2017-11-30T23:59:59Z"},
        "MUILanguages": ["de-DE", "en-US", "ja-JP"],
        "OtherTypeDescription": "\"quoted\" 'text'",
        "NumberOfProcesses": "64",
    },
    {
        "Caption": "Microsoft Windows Server 2012 R2 Standard",
        "Version": "6.3.9600",
        "BuildNumber": "9600",
        "CSName": "HV-NODE-04",
        "Description": "legacy",
        "InstallDate": {"datetime": "2014-02-03T10:00:00Z"},
        "MUILanguages": ["en-US"],
        "OtherTypeDescription": None,
        "NumberOfProcesses": "51",
    },
    {
        "Caption": "Microsoft Windows Server 2025 Datacenter",
        "Version": "10.0.26100",
        "BuildNumber": "26100",
        "CSName": "HV-NODE-05",
        "Description": "newest \u2713",
        "InstallDate": {"datetime": "2025-08-01T00:00:00Z"},
        "MUILanguages": ["en-US"],
        "OtherTypeDescription": None,
        "NumberOfProcesses": "210",
    },
]
CLASS = "Win32_OperatingSystem"
# A select on this class answers a sealed AccessDenied fault (WSManFault 5).
DENIED_CLASS = "Hvinv_AccessDenied"
# A select on this class is answered only after STALL_SECONDS (client timeouts).
STALL_CLASS = "Hvinv_Stall"
STALL_SECONDS = 8.0
# Many large instances in big pages: sealing of ~100 KB bodies, long runs.
BULK_CLASS = "Hvinv_Bulk"
BULK_COUNT = 400
BULK_PAGE_SIZE = 100


def bulk_instances() -> list[dict]:
    """Deterministic, so tests can recompute them from this definition."""
    return [
        {
            "Name": f"item-{i:04d}",
            "Index": str(i),
            # ~1 KB of text per instance, with escaping and non-ASCII in it.
            "Payload": (f"<{i}> & \u00e9\u2713 " * 64)[: 900 + i % 100],
        }
        for i in range(BULK_COUNT)
    ]


class Stats:
    """Counters the Rust tests read through GET /stats."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.data = {
            "connections": 0,
            "auth_ok": 0,
            "auth_failed": 0,
            "auth_spnego": 0,
            "auth_raw_ntlm": 0,
            "sealed_requests": 0,
            "plain_requests": 0,
            "max_sealed_per_connection": 0,
            "cbt_checked": 0,
            "enumerates": 0,
            "pulls": 0,
            "releases": 0,
            "faults": 0,
            "rejected": 0,
            "auth_kerberos": 0,
            "ntlm_refused": 0,
            "dropped_connections": 0,
            "last_reject_reason": "",
        }

    def add(self, key: str, n: int = 1) -> None:
        with self.lock:
            self.data[key] += n

    def set_max(self, key: str, value: int) -> None:
        with self.lock:
            self.data[key] = max(self.data[key], value)

    def reject(self, reason: str) -> None:
        with self.lock:
            self.data["rejected"] += 1
            self.data["last_reject_reason"] = reason

    def snapshot(self) -> dict:
        with self.lock:
            return dict(self.data)


STATS = Stats()


class Reject(Exception):
    """A request that breaks the wire contract; answered 400, counted."""


# ---------------------------------------------------------------- XML out


def render_value(name: str, value, qualified: bool) -> str:
    tag = f"p:{name}" if qualified else name
    if value is None:
        return f'<{tag} xsi:nil="true"/>'
    if isinstance(value, list):
        return "".join(render_value(name, v, qualified) for v in value)
    if isinstance(value, dict):
        return f"<{tag}><cim:Datetime>{escape(value['datetime'])}</cim:Datetime></{tag}>"
    return f"<{tag}>{escape(value)}</{tag}>"


def render_instance(inst: dict, props: list[str] | None, cls: str = CLASS) -> str:
    """A full instance for SELECT *, an XmlFragment for a property list."""
    cim = 'xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common"'
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    if props is None:
        uri = WMI_PREFIX + "root/cimv2/" + cls
        inner = "".join(render_value(k, v, True) for k, v in inst.items())
        return f'<p:{cls} xmlns:p="{uri}" {xsi} {cim} xsi:type="p:{cls}_Type">{inner}</p:{cls}>'

    # WinRM sorts fragment children alphabetically and leaves them unqualified.
    wanted = {p.lower() for p in props}
    chosen = sorted((k for k in inst if k.lower() in wanted), key=str.lower)
    inner = "".join(render_value(k, inst[k], False) for k in chosen)
    return f"<w:XmlFragment {xsi} {cim}>{inner}</w:XmlFragment>"


def envelope(action: str, relates_to: str, body: str) -> bytes:
    return (
        '<s:Envelope xml:lang="en-US" '
        f'xmlns:s="{NS["s"]}" xmlns:a="{NS["wsa"]}" xmlns:n="{NS["wsen"]}" '
        f'xmlns:w="{NS["wsman"]}">'
        "<s:Header>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:Action>{action}</a:Action>"
        f"<a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header>"
        f"<s:Body>{body}</s:Body></s:Envelope>"
    ).encode("utf-8")


def fault(relates_to: str, subcode: str, code: int, message: str, provider: str | None = None) -> bytes:
    detail = escape(message)
    if provider is not None:
        detail = (
            '<f:ProviderFault provider="WMI Provider" path="%systemroot%\\system32\\WsmWmiPl.dll">'
            f'<f:WSManFault Code="{code}" Machine="{MACHINE}"><f:Message>{escape(provider)}</f:Message>'
            "</f:WSManFault></f:ProviderFault>"
        )
    body = (
        "<s:Fault><s:Code><s:Value>s:Sender</s:Value>"
        f"<s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>"
        f'<s:Reason><s:Text xml:lang="en-US">{escape(message)}</s:Text></s:Reason>'
        "<s:Detail>"
        f'<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f'Code="{code}" Machine="{MACHINE}"><f:Message>{detail}</f:Message></f:WSManFault>'
        "</s:Detail></s:Fault>"
    )
    return envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


# ---------------------------------------------------------------- WS-Man in


class Enumerations:
    """Open enumeration contexts; each page hands out a fresh context and the
    old one dies, so a client that pulls with a stale context is caught."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open: dict[str, tuple[list[str], int, int]] = {}

    def start(self, items: list[str], page_size: int = PAGE_SIZE) -> tuple[str, list[str], bool]:
        return self._page(items, 0, page_size, page_size)

    def pull(self, context: str, max_elements: int) -> tuple[str, list[str], bool] | None:
        with self.lock:
            state = self.open.pop(context, None)
        if state is None:
            return None
        items, pos, page_size = state
        return self._page(items, pos, page_size, max_elements)

    def release(self, context: str) -> bool:
        with self.lock:
            return self.open.pop(context, None) is not None

    def _page(self, items: list[str], pos: int, page_size: int, max_elements: int) -> tuple[str, list[str], bool]:
        end = pos + max(1, min(page_size, max_elements))
        page = items[pos:end]
        done = end >= len(items)
        context = ""
        if not done:
            context = f"uuid:{str(uuid.uuid4()).upper()}"
            with self.lock:
                self.open[context] = (items, end, page_size)
        return context, page, done


ENUMERATIONS = Enumerations()
WQL_RE = re.compile(r"^\s*SELECT\s+(?P<props>.+?)\s+FROM\s+(?P<cls>\w+)\s*(?:WHERE\s+.*)?$", re.I | re.S)


def text_of(root: ET.Element, path: str) -> str | None:
    el = root.find(path, NS)
    return None if el is None else (el.text or "")


ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
DURATION_RE = re.compile(r"^PT(\d+(\.\d+)?)S$")
UUID_RE = re.compile(r"^uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


def check_headers(root: ET.Element, message_id: str) -> None:
    """The addressing headers every WS-Man request carries (MS-WSMV 3.1.4;
    pypsrp, WinRb and txwinrm send the same set)."""
    if not UUID_RE.match(message_id.strip()):
        raise Reject(f"wsa:MessageID is not uuid:<GUID>: {message_id!r}")
    if not (text_of(root, "s:Header/wsa:To") or "").strip():
        raise Reject("no wsa:To")
    if (text_of(root, "s:Header/wsa:ReplyTo/wsa:Address") or "").strip() != ANONYMOUS:
        raise Reject("wsa:ReplyTo/wsa:Address is not the anonymous role")
    size = (text_of(root, "s:Header/wsman:MaxEnvelopeSize") or "").strip()
    if not size.isdigit() or int(size) < 8192:
        raise Reject(f"wsman:MaxEnvelopeSize missing or below 8192: {size!r}")
    timeout = (text_of(root, "s:Header/wsman:OperationTimeout") or "").strip()
    if timeout and not DURATION_RE.match(timeout):
        raise Reject(f"wsman:OperationTimeout is not PTnS: {timeout!r}")
    for path in ("s:Header/wsa:Action", "s:Header/wsman:ResourceURI", "s:Header/wsman:MaxEnvelopeSize"):
        el = root.find(path, NS)
        if el is None or el.get("{%s}mustUnderstand" % NS["s"]) != "true":
            raise Reject(f"{path} missing or without s:mustUnderstand=\"true\"")


def handle_soap(xml: bytes) -> tuple[int, bytes]:
    """One WS-Man request in, (HTTP status, SOAP reply) out."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise Reject(f"request is not XML: {e}") from e
    body = root.find("s:Body", NS)
    if body is None:
        raise Reject("no s:Body")
    if body.find("wsmid:Identify", NS) is not None:
        reply = (
            f'<wsmid:IdentifyResponse xmlns:wsmid="{NS["wsmid"]}">'
            "<wsmid:ProtocolVersion>http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd</wsmid:ProtocolVersion>"
            "<wsmid:ProductVendor>Microsoft Corporation</wsmid:ProductVendor>"
            "<wsmid:ProductVersion>OS: 10.0.20348 SP: 0.0 Stack: 3.0</wsmid:ProductVersion>"
            "</wsmid:IdentifyResponse>"
        ).encode()
        return 200, b'<s:Envelope xmlns:s="%s"><s:Header/><s:Body>%s</s:Body></s:Envelope>' % (
            NS["s"].encode(),
            reply,
        )
    # Identify carries no WS-Addressing headers; everything else needs them.
    message_id = text_of(root, "s:Header/wsa:MessageID")
    if not message_id:
        raise Reject("no wsa:MessageID")
    check_headers(root, message_id)
    action = text_of(root, "s:Header/wsa:Action")
    resource_uri = text_of(root, "s:Header/wsman:ResourceURI") or ""
    if action == ACTION_ENUMERATE:
        STATS.add("enumerates")
        return enumerate_reply(body, resource_uri, message_id)
    if action == ACTION_PULL:
        STATS.add("pulls")
        context = text_of(body, "wsen:Pull/wsen:EnumerationContext") or ""
        max_text = text_of(body, "wsen:Pull/wsen:MaxElements") or str(PAGE_SIZE)
        try:
            max_elements = int(max_text)
        except ValueError as e:
            raise Reject(f"Pull MaxElements not a number: {max_text!r}") from e
        page = ENUMERATIONS.pull(context.strip(), max_elements)
        if page is None:
            STATS.add("faults")
            return 500, fault(message_id, "wsen:InvalidEnumerationContext", 2150858776, "The enumeration context is not valid.")
        new_context, items, done = page
        return 200, envelope(
            ACTION_PULL + "Response",
            message_id,
            "<n:PullResponse>"
            + (f"<n:EnumerationContext>{new_context}</n:EnumerationContext>" if new_context else "")
            + "<n:Items>"
            + "".join(items)
            + "</n:Items>"
            + ("<n:EndOfSequence/>" if done else "")
            + "</n:PullResponse>",
        )
    if action == ACTION_RELEASE:
        STATS.add("releases")
        context = text_of(body, "wsen:Release/wsen:EnumerationContext") or ""
        if not ENUMERATIONS.release(context.strip()):
            STATS.add("faults")
            return 500, fault(message_id, "wsen:InvalidEnumerationContext", 2150858776, "The enumeration context is not valid.")
        return 200, envelope(ACTION_RELEASE + "Response", message_id, "")
    raise Reject(f"action not allowed for a read-only client: {action!r}")


def enumerate_reply(body: ET.Element, resource_uri: str, message_id: str) -> tuple[int, bytes]:
    filt = body.find("wsen:Enumerate/wsman:Filter", NS)
    if filt is None:
        raise Reject("Enumerate without a wsman:Filter")
    if filt.get("Dialect") != WQL_DIALECT:
        raise Reject(f"filter dialect is not WQL: {filt.get('Dialect')!r}")
    if body.find("wsen:Enumerate/wsman:OptimizeEnumeration", NS) is None:
        raise Reject("Enumerate without wsman:OptimizeEnumeration")
    # Real hosts fault on a concrete class URI plus WQL: demand the wildcard.
    if resource_uri.strip() != CIMV2_ALL:
        STATS.add("faults")
        return 500, fault(
            message_id,
            "w:DestinationUnreachable",
            2150858778,
            f"The WS-Management service cannot process the request: resource URI {resource_uri} is not {CIMV2_ALL}.",
        )
    m = WQL_RE.match(filt.text or "")
    if m is None:
        STATS.add("faults")
        return 500, fault(message_id, "wsen:CannotProcessFilter", 2150858778, "Invalid query", provider="Invalid query")
    cls = m.group("cls")
    props_text = m.group("props").strip()
    props = None if props_text == "*" else [p.strip() for p in props_text.split(",") if p.strip()]
    if cls.lower() == DENIED_CLASS.lower():
        STATS.add("faults")
        return 500, fault(message_id, "w:AccessDenied", 5, "Access is denied.")
    if cls.lower() == STALL_CLASS.lower():
        time.sleep(STALL_SECONDS)
    if cls.lower() == BULK_CLASS.lower():
        items = [render_instance(i, props, BULK_CLASS) for i in bulk_instances()]
        context, page, done = ENUMERATIONS.start(items, BULK_PAGE_SIZE)
        return 200, enumerate_response(message_id, context, page, done)
    if cls.lower() != CLASS.lower():
        STATS.add("faults")
        return 500, fault(
            message_id,
            "wsen:CannotProcessFilter",
            2150858778,
            "The WS-Management service cannot process the request. The WMI service or the WMI provider returned an unknown error.",
            provider="The specified class does not exist in the given namespace.",
        )
    items = [render_instance(i, props) for i in ESTATE]
    context, page, done = ENUMERATIONS.start(items)
    return 200, enumerate_response(message_id, context, page, done)


def enumerate_response(message_id: str, context: str, page: list[str], done: bool) -> bytes:
    return envelope(
        ACTION_ENUMERATE + "Response",
        message_id,
        f"<n:EnumerateResponse><n:EnumerationContext>{context}</n:EnumerationContext>"
        "<w:Items>" + "".join(page) + "</w:Items>" + ("<w:EndOfSequence/>" if done else "") + "</n:EnumerateResponse>",
    )


# ---------------------------------------------------------------- sealing


SEALED_RE = re.compile(
    rb"\A--Encrypted Boundary\r\n"
    rb"\tContent-Type: application/HTTP-(?:SPNEGO|Kerberos)-session-encrypted\r\n"
    rb"\tOriginalContent: type=application/soap\+xml;charset=UTF-8;Length=(?P<len>\d+)\r\n"
    rb"--Encrypted Boundary\r\n"
    rb"\tContent-Type: application/octet-stream\r\n"
    rb"(?P<payload>.*)"
    rb"--Encrypted Boundary--\r\n\Z",
    re.S,
)


def content_type_params(value: str) -> tuple[str, dict[str, str]]:
    main, *rest = value.split(";")
    params = {}
    for item in rest:
        key, _, val = item.strip().partition("=")
        params[key.strip().lower()] = val.strip().strip('"')
    return main.strip().lower(), params


def unseal(ctx, content_type: str, body: bytes, header_len: int | None = 16) -> bytes:
    """Strict reader of MS-WSMV 2.2.9.1.1 framing: exactly the bytes Windows
    sends, so a client that drifts from them is caught here."""
    main, params = content_type_params(content_type)
    if main != "multipart/encrypted":
        raise Reject(f"sealed body with content type {main!r}")
    if params.get("protocol") != SPNEGO_ENCRYPTED or params.get("boundary") != BOUNDARY:
        # (Kerberos under the Negotiate scheme is SPNEGO-session-encrypted too.)
        raise Reject(f"bad multipart/encrypted parameters: {params!r}")
    m = SEALED_RE.match(body)
    if m is None:
        raise Reject("sealed body does not follow the MS-WSMV layout")
    payload = m.group("payload")
    if len(payload) < 20:
        raise Reject("sealed payload shorter than its header")
    (sig_len,) = struct.unpack("<I", payload[:4])
    if header_len is not None and sig_len != header_len:
        raise Reject(f"signature length field {sig_len}, expected {header_len}")
    if not 0 < sig_len <= len(payload) - 4:
        raise Reject(f"header length field {sig_len} does not fit the payload")
    if b"Content-Type: application/HTTP-SPNEGO-session-encrypted" not in body[:120]:
        raise Reject("first part does not announce application/HTTP-SPNEGO-session-encrypted")
    plain = ctx.unwrap_winrm(payload[4 : 4 + sig_len], payload[4 + sig_len :])
    if len(plain) != int(m.group("len")):
        raise Reject(f"Length={m.group('len')} but the plaintext has {len(plain)} bytes")
    return plain


# ---------------------------------------------------------------- HTTP


def tls_channel_bindings(cert_pem_path: str) -> GssChannelBindings:
    """RFC 5929 tls-server-end-point of our own certificate: SHA-256 unless
    the certificate is signed with a stronger hash."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding

    with open(cert_pem_path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    algo = cert.signature_hash_algorithm
    if algo is None or isinstance(algo, (hashes.MD5, hashes.SHA1)):
        algo = hashes.SHA256()
    digest = hashes.Hash(algo)
    digest.update(cert.public_bytes(Encoding.DER))
    return GssChannelBindings(application_data=b"tls-server-end-point:" + digest.finalize())


def bindings_in_authenticate(token: bytes) -> bytes | None:
    """MsvAvChannelBindings from an NTLM AUTHENTICATE (raw or inside SPNEGO).
    pyspnego accepts all-zero bindings as "none"; with --require-cbt we also
    want to see that the client really sent them."""
    from spnego._ntlm_raw.messages import Authenticate, AvId, NTClientChallengeV2

    start = token.find(b"NTLMSSP\x00\x03\x00\x00\x00")
    if start < 0:
        return None
    auth = Authenticate.unpack(token[start:])
    nt = auth.nt_challenge_response or b""
    if len(nt) <= 24:
        return None
    return NTClientChallengeV2.unpack(nt[16:]).av_pairs.get(AvId.channel_bindings)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    # Socket timeout: an idle keep-alive connection is dropped after this.
    timeout = 30

    def setup(self) -> None:
        super().setup()
        self.ctx = None
        self.sealed_here = 0
        self.answered = 0
        STATS.add("connections")

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (stdlib name)
        if os.environ.get("HVINV_INTEROP_VERBOSE"):
            sys.stderr.write("winrm_server: " + (format % args) + "\n")

    # -- responses

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def challenge(self, token: bytes | None = None) -> None:
        value = "Negotiate" if token is None else "Negotiate " + base64.b64encode(token).decode()
        self.reply(401, headers={"WWW-Authenticate": value})

    # -- GET /stats, GET /estate (test plumbing, unauthenticated, plain)

    def do_GET(self) -> None:
        if self.path == "/stats":
            self.reply(200, json.dumps(STATS.snapshot()).encode(), {"Content-Type": "application/json"})
        elif self.path == "/estate":
            self.reply(200, json.dumps({"class": CLASS, "instances": ESTATE}).encode(), {"Content-Type": "application/json"})
        else:
            self.reply(404)

    # -- POST /wsman

    def read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            raise Reject("chunked request bodies are not accepted (WinRM wants Content-Length)")
        length = int(self.headers.get("Content-Length", "0") or "0")
        return self.rfile.read(length) if length > 0 else b""

    def do_POST(self) -> None:
        try:
            self.post()
        except Reject as e:
            STATS.reject(str(e))
            self.log_message("rejected: %s", e)
            self.reply(400, str(e).encode(), {"Content-Type": "text/plain", "Connection": "close"})
            self.close_connection = True

    def post(self) -> None:
        body = self.read_body()
        self.pending_body = body
        if self.path != "/wsman":
            self.reply(404)
            return
        auth = self.headers.get("Authorization")
        final_token = None
        if auth:
            scheme, _, b64 = auth.partition(" ")
            if scheme.lower() != "negotiate" or not b64.strip():
                self.challenge()
                return
            try:
                token = base64.b64decode(b64.strip(), validate=True)
            except ValueError as e:
                raise Reject(f"Authorization token is not base64: {e}") from e
            kerberos_host = self.server.kerberos_host  # type: ignore[attr-defined]
            if kerberos_host and (token.startswith(b"NTLMSSP\x00") or b"NTLMSSP\x00" in token):
                # A domain that refuses NTLM: any NTLM message is refused.
                STATS.add("ntlm_refused")
                STATS.add("auth_failed")
                self.ctx = None
                self.challenge()
                return
            if kerberos_host:
                self.kerberos_leg(token, kerberos_host)
                return
            if self.ctx is None or self.ctx.complete:
                # A fresh NEGOTIATE on this socket starts a new context (new keys).
                self.ctx = spnego.server(
                    hostname=socket.gethostname(),
                    service="WSMAN",
                    protocol="negotiate",
                    channel_bindings=self.server.cbt,  # type: ignore[attr-defined]
                    options=spnego.NegotiateOptions.use_negotiate,
                )
                self.sealed_here = 0
                STATS.add("auth_raw_ntlm" if token.startswith(b"NTLMSSP\x00") else "auth_spnego")
            if self.server.cbt is not None and b"NTLMSSP\x00\x03" in token:  # type: ignore[attr-defined]
                bindings = bindings_in_authenticate(token)
                if not bindings or bindings == b"\x00" * 16:
                    STATS.add("auth_failed")
                    STATS.reject("AUTHENTICATE carries no channel bindings")
                    self.ctx = None
                    self.challenge()
                    return
            try:
                out = self.ctx.step(token)
            except (spnego.exceptions.SpnegoError, AttributeError) as e:
                # (pyspnego 0.12 raises AttributeError when GSSAPI's
                # accept fails before the context started, e.g. clock skew.)
                STATS.add("auth_failed")
                self.log_message("authentication failed: %s", e)
                self.ctx = None
                self.challenge()
                return
            if not self.ctx.complete:
                self.challenge(out)
                return
            STATS.add("auth_ok")
            if self.server.cbt is not None:  # type: ignore[attr-defined]
                STATS.add("cbt_checked")
            final_token = out
        elif self.ctx is None or not self.ctx.complete:
            self.challenge()
            return
        self.answer(body, final_token)

    def kerberos_leg(self, token: bytes, fqdn: str) -> None:
        """SPNEGO NegTokenInit with a Kerberos AP-REQ, read with pyspnego's
        SPNEGO parser and accepted by MIT GSSAPI (krb5 mech) with the keytab;
        the AP-REP goes back in a NegTokenResp. Anything NTLM is refused."""
        from spnego._spnego import NegState, NegTokenInit, NegTokenResp, unpack_token

        KRB5 = ("1.2.840.113554.1.2.2", "1.2.840.48018.1.2.2")
        try:
            init = unpack_token(token)
        except Exception as e:  # noqa: BLE001 (any parse failure is a refusal)
            raise Reject(f"Authorization token is not SPNEGO: {e}") from e
        if not isinstance(init, NegTokenInit) or not init.mech_types:
            raise Reject("expected a SPNEGO NegTokenInit")
        if "1.3.6.1.4.1.311.2.2.10" in init.mech_types:
            STATS.add("ntlm_refused")
        if init.mech_types[0] not in KRB5 or not init.mech_token:
            STATS.add("auth_failed")
            self.ctx = None
            self.challenge(NegTokenResp(neg_state=NegState.reject).pack())
            return
        STATS.add("auth_spnego")
        self.ctx = spnego.server(
            hostname=fqdn,
            service=self.server.kerberos_service,  # type: ignore[attr-defined]
            protocol="kerberos",
            channel_bindings=self.server.cbt,  # type: ignore[attr-defined]
        )
        self.sealed_here = 0
        try:
            ap_rep = self.ctx.step(init.mech_token)
        except (spnego.exceptions.SpnegoError, AttributeError) as e:
            STATS.add("auth_failed")
            self.log_message("Kerberos authentication failed: %s", e)
            self.ctx = None
            self.challenge()
            return
        if not self.ctx.complete or not ap_rep:
            raise Reject("Kerberos context incomplete after the AP-REQ (no mutual authentication)")
        STATS.add("auth_ok")
        STATS.add("auth_kerberos")
        if self.server.cbt is not None:  # type: ignore[attr-defined]
            STATS.add("cbt_checked")
        resp = NegTokenResp(neg_state=NegState.accept_complete, supported_mech=init.mech_types[0], response_token=ap_rep)
        self.answer(self.pending_body, resp.pack())

    def answer(self, body: bytes, final_token: bytes | None) -> None:
        kerberos_host = self.server.kerberos_host  # type: ignore[attr-defined]
        headers = {}
        if final_token:
            headers["WWW-Authenticate"] = "Negotiate " + base64.b64encode(final_token).decode()
        content_type = self.headers.get("Content-Type", "")
        if not body:
            # pypsrp-style empty authenticated POST, before the first sealed message.
            self.reply(200, b"", headers)
            return
        sealed = content_type.lower().startswith("multipart/")
        if sealed:
            try:
                xml = unseal(self.ctx, content_type, body, None if kerberos_host else 16)
            except spnego.exceptions.SpnegoError as e:
                raise Reject(f"unwrap failed (signature or sequence number): {e}") from e
            STATS.add("sealed_requests")
            self.sealed_here += 1
            STATS.set_max("max_sealed_per_connection", self.sealed_here)
        else:
            if not self.server.tls:  # type: ignore[attr-defined]
                # AllowUnencrypted=false: plain SOAP over HTTP is refused.
                raise Reject("plaintext SOAP over HTTP")
            if not content_type.lower().startswith("application/soap+xml"):
                raise Reject(f"plain body with content type {content_type!r}")
            xml = body
            STATS.add("plain_requests")
        status, reply = handle_soap(xml)
        if sealed:
            kind, wrapped = WinRMEncryption(self.ctx, WinRMEncryption.SPNEGO).wrap_message(reply)
            headers["Content-Type"] = f'{kind};protocol="{SPNEGO_ENCRYPTED}";boundary="{BOUNDARY}"'
            self.reply(status, wrapped, headers)
        else:
            headers["Content-Type"] = "application/soap+xml;charset=UTF-8"
            self.reply(status, reply, headers)
        self.answered += 1
        drop_after = self.server.drop_after  # type: ignore[attr-defined]
        if drop_after and self.answered >= drop_after:
            # Like an idle timeout or a service restart: the socket just
            # closes, no "Connection: close" warning. The client must
            # reconnect and authenticate again (new keys, sequence 0).
            STATS.add("dropped_connections")
            self.close_connection = True


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tls: ssl.SSLContext | None, cbt: GssChannelBindings | None, drop_after: int) -> None:
        self.tls = tls
        self.cbt = cbt
        self.drop_after = drop_after
        self.kerberos_host: str | None = None
        self.kerberos_service = "WSMAN"
        super().__init__(("127.0.0.1", 0), Handler)

    def finish_request(self, request, client_address) -> None:
        # TLS per connection in its own thread, so a failing handshake only
        # ends that connection.
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)


def write_credential_file(directory: str) -> str:
    """pyspnego's acceptor reads accounts from NTLM_USER_FILE
    (DOMAIN:USER:PASSWORD lines); the password arrives through the environment."""
    user = os.environ.get("HVINV_INTEROP_USER")
    password = os.environ.get("HVINV_INTEROP_PASSWORD")
    if not user or password is None:
        sys.exit("winrm_server: HVINV_INTEROP_USER and HVINV_INTEROP_PASSWORD must be set")
    domain = os.environ.get("HVINV_INTEROP_DOMAIN", "")
    path = os.path.join(directory, "ntlm_users")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"{domain}:{user}:{password}\n")
    return path


def exit_when_parent_goes() -> None:
    """stdin closing means the test is done (or gone): report the counters on
    stdout, which works the same over HTTP and HTTPS, and leave."""
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        try:
            print("STATS " + json.dumps(STATS.snapshot()), flush=True)
        finally:
            os._exit(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    ap.add_argument("--tls-key", help="PEM private key for --tls-cert")
    ap.add_argument("--require-cbt", action="store_true", help="verify channel binding (HTTPS only)")
    ap.add_argument("--lifetime", type=float, default=300.0, help="exit after this many seconds")
    ap.add_argument("--drop-after", type=int, default=0, help="close each connection after this many SOAP replies")
    ap.add_argument(
        "--kerberos",
        metavar="FQDN",
        help="accept only Kerberos for <service>/FQDN (keytab in KRB5_KTNAME, realm in KRB5_CONFIG); refuse NTLM",
    )
    ap.add_argument("--service", default="WSMAN", help="service class of the Kerberos principal")
    ap.add_argument("--wrong-cbt", action="store_true", help="expect bogus channel bindings (proves the client sends real ones)")
    ap.add_argument("--print-estate", action="store_true", help="print the canned instances as JSON and exit")
    args = ap.parse_args()
    if args.print_estate:
        print(json.dumps({"class": CLASS, "instances": ESTATE, "bulk": {"class": BULK_CLASS, "instances": bulk_instances()}}))
        return

    workdir = tempfile.mkdtemp(prefix="hvinv-interop-")
    if not args.kerberos:
        os.environ["NTLM_USER_FILE"] = write_credential_file(workdir)

    tls = None
    cbt = None
    if args.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
        if args.require_cbt:
            cbt = tls_channel_bindings(args.tls_cert)
        if args.wrong_cbt:
            cbt = GssChannelBindings(application_data=b"tls-server-end-point:" + b"\x00" * 32)
    server = Server(tls, cbt, args.drop_after)
    server.kerberos_host = args.kerberos
    server.kerberos_service = args.service
    threading.Thread(target=exit_when_parent_goes, daemon=True).start()
    threading.Timer(args.lifetime, lambda: os._exit(3)).start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
