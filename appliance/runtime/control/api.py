"""Every operation a front end may ask of the phone, declared once.

One :class:`Operation` gives the name (``controller.method``), the route, the body's JSON schema,
who may call it and what it answers. From this one table come the control socket's protocol
(names and arguments), the web server's aiohttp routes and its OpenAPI document. Operations with
``web=True`` are the page's own (login, set-up, firmware upload): the page answers them itself.
Body schemas come from the config schema where they describe the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.config.editable import body_schema, settings_body_schema
from appliance.config.schema import ContactEntry, SipAccountEntry

Schema = dict[str, Any]

MAX_BODY = 64 * 1024
RESTORE_MAX = 12 * 1024 * 1024  # base64 of the largest backup (8 MiB)
VCF_MAX = 1024 * 1024

JSON = "application/json"
BINARY = "application/octet-stream"
FILE = "file"  # the answer is {"filename", "data" (base64)}: sent as a download
TEXT = "text"  # the answer is text of ``produces``' type


@dataclass(frozen=True)
class Operation:
    """One API operation. Path parameters and body fields are the method's keyword arguments,
    unless ``body_as`` names the one argument that takes the whole body."""

    name: str
    method: str
    path: str
    summary: str
    body: Schema | None = None
    body_as: str = ""
    ok: int = 200
    result: Schema = field(default_factory=lambda: {"type": "object"})
    public: bool = False  # reachable without logging in
    desktop_only: bool = False  # the virtual phone: only on a simulated board
    max_body: int = MAX_BODY
    produces: str = JSON
    answer: str = JSON  # JSON, FILE or TEXT
    consumes: str = ""  # a raw body of this type (the page streams it) instead of JSON
    web: bool = False  # answered by the web page itself, not by the phone
    internal: bool = False  # between the page's process and the phone only: no HTTP route

    @property
    def controller(self) -> str:
        return self.name.partition(".")[0]

    @property
    def function(self) -> str:
        return self.name.partition(".")[2]


def _object(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """A JSON object with exactly these properties (all required unless ``required`` says)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


PASSWORD: Schema = {"type": "string", "minLength": 8, "maxLength": 1024}
BACKUP_PASSWORD: Schema = {**PASSWORD, "description": "encrypts the backup; needed to restore it"}
ANY_PASSWORD: Schema = {"type": "string", "maxLength": 1024}
CONTACT_PROPS = body_schema(ContactEntry, max_length=64, lengths={"uri": 256, "speed_dial": 2, "number": 12})
CONTACT_PROPS.pop("id")  # made by the phone
CONTACT_IN: Schema = {**_object(CONTACT_PROPS, required=["name", "uri"])}
CONTACT_PATCH: Schema = {"type": "object", "properties": CONTACT_PROPS, "additionalProperties": False}
IDENTITY: Schema = {
    "type": "object",
    "nullable": True,
    "description": "the contact's certificate as pinned at first contact; changed: it presented another",
    "properties": {
        "fingerprint": {"type": "string"},
        "pinned_at": {"type": "number"},
        "changed": {"type": "boolean"},
        "presented": {"type": "string"},
    },
}
CONTACT_OUT: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        **CONTACT_PROPS,
        "identity": IDENTITY,
        "warning": {"type": "string", "description": "why calls to it cannot work now"},
    },
    "required": ["id", "name", "uri", "speed_dial", "number", "account"],
}
SIP_PROPS = body_schema(SipAccountEntry, max_length=128, lengths={"id": 32, "username": 64, "password": 256})
SIP_PROPS["local_port"] |= {"minimum": 1024, "maximum": 65535}
SIP_IN: Schema = {**_object(SIP_PROPS, required=["id", "username"])}
SIP_IN["properties"] = {**SIP_PROPS, "id": {**SIP_PROPS["id"], "minLength": 1}}
SIP_PATCH: Schema = {
    "type": "object",
    "properties": {k: v for k, v in SIP_PROPS.items() if k != "id"},
    "additionalProperties": False,
}
SIP_OUT: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "username": {"type": "string"},
        "registrar": {"type": "string"},
        "local_port": {"type": "integer"},
        "password_set": {"type": "boolean"},
        "code_required": {"type": "boolean", "description": "the first run asks the display's setup code"},
        "registration": {"type": "string"},
    },
}
STATUS: Schema = {
    "type": "object",
    "properties": {
        "phone": {
            "type": "object",
            "properties": {
                "state": {"type": "string"},
                "tone": {"type": "string", "nullable": True},
                "ringer": {"type": "boolean"},
                "display": {"type": "array", "items": {"type": "string"}},
                "loop_disconnect_ms": {
                    "type": "integer",
                    "description": "the analog line's loop opened this long when the far end clears; "
                    "0: no loop switch, the polarity's return alone says it",
                },
            },
            "required": ["state", "tone", "ringer", "display"],
        },
        "accounts": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "type": {"type": "string"},
                    "uri": {"type": "string"},
                    "registration": {"type": "string"},
                },
                "required": ["id", "type", "uri", "registration"],
            },
        },
    },
    "required": ["phone", "accounts"],
}
PROBLEMS: Schema = {
    "type": "object",
    "properties": {
        "error": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
    "required": ["error"],
}
DIGITS: Schema = {"type": "string", "pattern": "[0-9*#]{1,32}", "description": "1 to 32 keys of 0-9 * #"}
LIST: Schema = {"type": "array", "items": {"type": "object"}}
STRINGS: Schema = {"type": "array", "items": {"type": "string"}}

SSH_KEY_MAX = 16 * 1024
SSH_KEY: Schema = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "the fingerprint as a path segment (base64url)"},
        "type": {"type": "string"},
        "bits": {"type": "integer"},
        "comment": {"type": "string"},
        "fingerprint": {"type": "string", "description": "as ssh-keygen -l prints it: SHA256:..."},
    },
}
SSH_STATUS: Schema = {
    "type": "object",
    "properties": {
        "managed": {"type": "boolean", "description": "false where the page does not manage SSH (desktop)"},
        "enabled": {"type": "boolean"},
        "keys": {"type": "array", "items": SSH_KEY},
        "host_keys": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string"},
                    "bits": {"type": "integer"},
                    "fingerprint": {"type": "string"},
                },
            },
        },
        "unread_lines": {
            "type": "integer",
            "description": "lines of authorized_keys kept as written by hand",
        },
        "message": {"type": "string"},
        "ok": {"type": "boolean", "description": "after a change: whether the system applied it"},
        "result": {"type": "string", "description": "after a change: what the system did, in words"},
    },
}

_op = Operation
_contact = "/api/v1/contacts/{contact_id}"
_request = "/api/v1/trust-requests/{uri}"

OPERATIONS: tuple[Operation, ...] = (
    # --- the page's own ---------------------------------------------------------------------
    _op("web.openapi", "GET", "/api/v1/openapi.json", "This document", public=True, web=True),
    _op("web.setup_state", "GET", "/api/v1/setup", "Whether the admin password is set", public=True,
        web=True),
    _op("web.setup", "POST", "/api/v1/setup", "Set the admin password on first run (then log in)",
        _object({"password": PASSWORD, "code": {"type": "string", "maxLength": 16,
                 "description": "the setup code on the phone's display"}}, required=["password"]),
        ok=201, public=True, web=True),
    _op("web.login", "POST", "/api/v1/login", "Log in: a session cookie and its CSRF token",
        _object({"password": ANY_PASSWORD}), public=True, web=True),
    _op("web.logout", "POST", "/api/v1/logout", "End this session", public=True, web=True),
    _op("web.session", "GET", "/api/v1/session", "This session's CSRF token", web=True),
    _op("web.change_password", "PUT", "/api/v1/password", "New admin password (ends other sessions)",
        _object({"old": ANY_PASSWORD, "new": PASSWORD}), web=True),
    _op("web.qr", "GET", "/api/v1/account/qr.svg", "The Jami ID as a QR code (SVG)",
        produces="image/svg+xml", result={"type": "string"}, web=True),
    _op("web.https", "GET", "/api/v1/system/https",
        "HTTPS: the device's certificate authority (its SHA-256 fingerprint) and the names and "
        "addresses its certificate covers", web=True),
    _op("web.ca_certificate", "GET", "/api/v1/system/ca.crt",
        "The device's certificate authority (PEM), to trust once in a browser or system",
        produces="application/x-x509-ca-cert", result={"type": "string"}, public=True, web=True),
    _op("web.firmware_status", "GET", "/api/v1/system/firmware", "Where a firmware update stands", web=True),
    _op("web.upload_firmware", "POST", "/api/v1/system/firmware",
        "Upload a signed update bundle: checked, then written to the other system slot; the "
        "phone reboots into it and goes back if it does not come up", ok=202, consumes=BINARY, web=True),
    _op("web.ssh_status", "GET", "/api/v1/system/ssh",
        "SSH: on or off, the admin's authorized keys (type, comment, SHA256 fingerprint) and the "
        "host key fingerprints", result=SSH_STATUS, web=True),
    _op("web.ssh_add_key", "POST", "/api/v1/system/ssh/keys",
        "Add an OpenSSH public key for `ssh admin@...` (the first one turns SSH on; password login "
        "never); checked here and again by the system that writes it",
        _object({"key": {"type": "string", "maxLength": SSH_KEY_MAX,
                         "description": "one line: TYPE BASE64 [COMMENT], no options"}}),
        ok=201, result=SSH_STATUS, max_body=2 * SSH_KEY_MAX, web=True),
    _op("web.ssh_remove_key", "DELETE", "/api/v1/system/ssh/keys/{key_id}",
        "Remove a key by its id (the last one gone turns SSH off)", result=SSH_STATUS, web=True),
    # --- the phone ----------------------------------------------------------------------------
    _op("web.events", "GET", "/api/v1/events",
        "The status pushed as server-sent events (text/event-stream), a message at each change",
        produces="text/event-stream", result=STATUS, web=True),
    _op("status.status", "GET", "/api/v1/status", "The phone, its accounts, uptime", result=STATUS),
    _op("status.watch", "POST", "/api/v1/status/watch",
        "Long poll: the status once it changed since version `since` (or after `timeout_s`)",
        _object({"since": {"type": "integer", "minimum": 0},
                 "timeout_s": {"type": "number", "minimum": 0, "maximum": 25}}, required=[]),
        result={"type": "object", "properties": {"version": {"type": "integer"}, "status": STATUS}}),
    _op("status.dismiss_notice", "POST", "/api/v1/notices/{key}/dismiss",
        "Dismiss a warning the owner has read (an error stays until its cause is fixed)", ok=204),
    _op("status.info", "GET", "/api/v1/info", "Board, version and the device's facts"),
    _op("status.network", "GET", "/api/v1/network",
        "Addresses, the router's UPnP gateway and outside address, a NAT hint, DHT connectivity"),
    _op("status.call_log", "GET", "/api/v1/calls", "The call log, newest first", result=LIST),
    _op("status.logs", "GET", "/api/v1/logs", "Recent log lines", result=STRINGS),
    _op("messages.list", "GET", "/api/v1/messages",
        "The answering machine's messages, newest first (caller, time, duration, heard)", result=LIST),
    _op("messages.audio", "GET", "/api/v1/messages/{message_id}/audio",
        "A message's recording (FLAC, or WAV on the desktop board), to play or save",
        produces="audio/flac", answer=FILE, result={"type": "string", "format": "binary"}),
    _op("messages.delete", "DELETE", "/api/v1/messages/{message_id}", "Delete a message", ok=204),
    _op("status.handset_test", "POST", "/api/v1/handset/test",
        "Handset test: the test tone (1004 Hz, 3 s) in the earpiece, and/or the microphone's level",
        _object({"tone": {"type": "boolean"}, "listen_s": {"type": "number", "minimum": 0, "maximum": 5}},
                required=[])),
    _op("contacts.list", "GET", "/api/v1/contacts", "The directory",
        result={"type": "array", "items": CONTACT_OUT}),
    _op("contacts.add", "POST", "/api/v1/contacts", "Add a contact", CONTACT_IN, body_as="fields", ok=201,
        result=CONTACT_OUT),
    _op("contacts.export", "GET", "/api/v1/contacts.vcf", "The directory as a vCard file",
        produces="text/vcard", answer=TEXT, result={"type": "string"}),
    _op("contacts.import_vcf", "POST", "/api/v1/contacts/import",
        "Add the contacts of a vCard file (Jami, SIP and number entries); known ones are skipped",
        _object({"vcf": {"type": "string", "maxLength": VCF_MAX}}), max_body=VCF_MAX + 4096),
    _op("contacts.get", "GET", _contact, "One contact", result=CONTACT_OUT),
    _op("contacts.update", "PUT", _contact, "Change a contact", CONTACT_PATCH, body_as="fields",
        result=CONTACT_OUT),
    _op("contacts.delete", "DELETE", _contact, "Delete a contact", ok=204),
    _op("contacts.send_request", "POST", _contact + "/request",
        "Send the contact a request with this phone's vCard (done on add for Jami IDs)"),
    _op("accounts.sip_list", "GET", "/api/v1/sip-accounts", "SIP accounts, with their registration",
        result={"type": "array", "items": SIP_OUT}),
    _op("accounts.sip_add", "POST", "/api/v1/sip-accounts", "Add a SIP account (applied at restart)",
        SIP_IN, body_as="fields", ok=201),
    _op("accounts.sip_update", "PUT", "/api/v1/sip-accounts/{account_id}",
        "Change a SIP account (an empty password keeps the saved one)", SIP_PATCH, body_as="fields"),
    _op("accounts.sip_delete", "DELETE", "/api/v1/sip-accounts/{account_id}", "Remove a SIP account",
        ok=204),
    _op("accounts.export_archive", "POST", "/api/v1/account/export",
        "The Jami account's archive (its keys), encrypted with the password given",
        _object({"password": BACKUP_PASSWORD}), produces=BINARY, answer=FILE,
        result={"type": "string", "format": "binary"}),
    _op("accounts.import_archive", "POST", "/api/v1/account/import",
        "Make the account in an archive (base64) this phone's Jami account",
        _object({"password": ANY_PASSWORD, "data": {"type": "string", "maxLength": RESTORE_MAX}}),
        max_body=RESTORE_MAX + 4096),
    _op("settings.get", "GET", "/api/v1/settings", "The phone's settings"),
    _op("settings.save", "PUT", "/api/v1/settings", "Change settings (all or nothing)",
        settings_body_schema(), body_as="changes"),
    _op("settings.dial_test", "POST", "/api/v1/dialplan/test", "What a digit map makes of some keys",
        _object({"map": {"type": "string", "maxLength": 512}, "digits": DIGITS}, required=["digits"])),
    _op("trust.requests", "GET", "/api/v1/trust-requests", "Pending contact requests", result=LIST),
    _op("trust.accept", "POST", _request + "/accept", "Accept: the sender becomes a contact"),
    _op("trust.discard", "POST", _request + "/discard", "Discard a request"),
    _op("trust.block", "POST", _request + "/block", "Block the sender: no more requests or calls from it"),
    _op("trust.blocked", "GET", "/api/v1/blocked",
        "Blocked callers: the Jami daemon's ban and the phone's block list (screening.block)",
        result=STRINGS),
    _op("trust.block_caller", "POST", "/api/v1/blocked",
        "Block a number, SIP URI, Jami ID or registered name (a Jami ID is banned in the daemon too)",
        _object({"uri": {"type": "string", "minLength": 1, "maxLength": 256}}), ok=204),
    _op("trust.unblock", "DELETE", "/api/v1/blocked/{uri}", "Unblock a peer", ok=204),
    _op("trust.accept_identity", "POST", "/api/v1/identities/{uri}/accept",
        "Accept the new certificate a contact presented (after checking it with them)"),
    _op("system.backup", "POST", "/api/v1/system/backup",
        "A backup of the whole phone (configuration, Jami account, pins, call log), encrypted with "
        "the password given", _object({"password": BACKUP_PASSWORD}), produces=BINARY, answer=FILE,
        result={"type": "string", "format": "binary"}),
    _op("system.restore", "POST", "/api/v1/system/restore",
        "Restore a backup (base64 of the file), then restart",
        _object({"password": BACKUP_PASSWORD, "data": {"type": "string", "maxLength": RESTORE_MAX}}),
        max_body=RESTORE_MAX + 4096),
    _op("system.factory_reset", "POST", "/api/v1/system/factory-reset",
        "Erase configuration, account and password, then start as new",
        _object({"confirm": {"type": "string", "maxLength": 64,
                             "description": "the words 'factory reset'"}})),
    _op("provisioning.sync", "POST", "/api/v1/provisioning/sync",
        "Fetch the provisioning profile now: checked whole, kept, applied when the phone is idle; "
        "answers where provisioning stands (last success, last error with each field and why)"),
    _op("system.restart", "POST", "/api/v1/system/restart", "Restart the phone's software"),
    _op("system.reboot", "POST", "/api/v1/system/reboot", "Reboot the device"),
    _op("network.wifi", "GET", "/api/v1/wifi",
        "Wi-Fi: the networks of the last scan, saved connections (never their keys), the last join's "
        "outcome, the links, the phone's own access point"),
    _op("network.scan", "POST", "/api/v1/wifi/scan", "Look for Wi-Fi networks in range (a few seconds)"),
    _op("network.join", "POST", "/api/v1/wifi/join",
        "Join a Wi-Fi network and keep it: answered at once, the outcome in GET /wifi (on the phone's "
        "own access point the page's link goes while the radio joins)",
        _object({"ssid": {"type": "string", "minLength": 1, "maxLength": 32},
                 "psk": {"type": "string", "maxLength": 64,
                         "description": "the WPA password (8-63 characters) or key (64 hex); empty: open"},
                 "hidden": {"type": "boolean"}}, required=["ssid"]), ok=202),
    _op("network.forget", "DELETE", "/api/v1/network/connections/{uuid}", "Forget a saved network",
        ok=204),
    _op("network.set_ipv4", "PUT", "/api/v1/network/connections/{uuid}/ipv4",
        "A connection's IPv4 addressing: DHCP, or a static address/prefix, gateway and DNS (checked: "
        "the gateway in the subnet, ...)",
        _object({"method": {"type": "string", "enum": ["auto", "manual"]},
                 "address": {"type": "string", "maxLength": 15},
                 "prefix": {"type": "integer"},
                 "gateway": {"type": "string", "maxLength": 15},
                 "dns": {"type": "array", "items": {"type": "string", "maxLength": 15}, "maxItems": 8}},
                required=["method"]), body_as="setting"),
    _op("virtual_phone.hook", "POST", "/api/v1/sim/hook", "Virtual phone: lift or replace the handset",
        _object({"off_hook": {"type": "boolean"}}), desktop_only=True),
    _op("virtual_phone.flash", "POST", "/api/v1/sim/flash", "Virtual phone: hook flash", desktop_only=True),
    _op("virtual_phone.keys", "POST", "/api/v1/sim/keys", "Virtual phone: press keys",
        _object({"keys": DIGITS}), desktop_only=True),
    # --- between the page and the phone (the control socket only) ------------------------------
    _op("setup.state", "GET", "", "Whether the phone counts itself claimed", internal=True),
    _op("setup.check_code", "POST", "", "Whether a setup code is the one on the display (spends it)",
        _object({"code": {"type": "string", "maxLength": 16}}), internal=True),
    _op("setup.claimed", "POST", "", "The admin password is set: stop showing the code", internal=True),
    _op("setup.unclaimed", "POST", "", "No admin password: show a fresh code", internal=True),
    _op("setup.admin_password", "GET", "", "The admin password hash a profile brings, and whether it "
        "is locked (the page's process keeps the password)", internal=True),
)  # fmt: skip

BY_NAME = {op.name: op for op in OPERATIONS}
PHONE_OPERATIONS = frozenset(op.name for op in OPERATIONS if not op.web)
