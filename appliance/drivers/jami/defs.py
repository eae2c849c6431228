"""The jamid D-Bus contract this adapter relies on, pinned as data.

From the interface XML installed with Debian's jami-daemon 20230206 (daemon 13.7.0):
``/usr/share/dbus-1/interfaces/cx.ring.Ring.{CallManager,ConfigurationManager}.xml``.
``tests/jami/test_defs.py`` checks every entry against the installed XML.
"""

from __future__ import annotations

from pathlib import Path

SERVICE = "cx.ring.Ring"
INTERFACE_DIR = Path("/usr/share/dbus-1/interfaces")
CALL_MANAGER = ("/cx/ring/Ring/CallManager", "cx.ring.Ring.CallManager")
CONFIGURATION_MANAGER = ("/cx/ring/Ring/ConfigurationManager", "cx.ring.Ring.ConfigurationManager")

# name -> (in signature, out signature), per interface.
METHODS: dict[str, dict[str, tuple[str, str]]] = {
    "cx.ring.Ring.CallManager": {
        "placeCallWithMedia": ("ssaa{ss}", "s"),
        "acceptWithMedia": ("ssaa{ss}", "b"),
        "refuse": ("ss", "b"),
        "hangUp": ("ss", "b"),
        "hold": ("ss", "b"),
        "unhold": ("ss", "b"),
        "joinParticipant": ("ssss", "b"),
        "attendedTransfer": ("sss", "b"),
        "getConferenceId": ("ss", "s"),
        "holdConference": ("ss", "b"),
        "playDTMF": ("s", ""),
        "muteLocalMedia": ("sssb", "b"),
        "getCallList": ("s", "as"),
        "getCallDetails": ("ss", "a{ss}"),
    },
    "cx.ring.Ring.ConfigurationManager": {
        "addAccount": ("a{ss}", "s"),
        "getAccountList": ("", "as"),
        "mutePlayback": ("b", ""),  # the audio layer's playback: zeros written to its sink
        "connectivityChanged": ("", ""),  # beacons to every peer, unanswered ones cut (farend.py)
        "getAccountDetails": ("s", "a{ss}"),
        "getVolatileAccountDetails": ("s", "a{ss}"),
        "getContacts": ("s", "aa{ss}"),
        "getTrustRequests": ("s", "aa{ss}"),
        "acceptTrustRequest": ("ss", "b"),
        "discardTrustRequest": ("ss", "b"),
        "sendTrustRequest": ("ssay", ""),
        "removeContact": ("ssb", ""),
        "addContact": ("ss", ""),
        # A file into a conversation (the answering machine's messages to the owner's app).
        "sendFile": ("sssss", ""),
        # Swarm (conversation) requests, jamid >= 10: a current Jami app's contact request is one.
        "getConversationRequests": ("s", "aa{ss}"),
        "acceptConversationRequest": ("ss", ""),
        "declineConversationRequest": ("ss", ""),
        "getCertificateDetails": ("s", "a{ss}"),
        "setAccountDetails": ("sa{ss}", ""),
        "removeAccount": ("s", ""),
        "sendRegister": ("sb", ""),  # a SIP account's REGISTER sent again (accounts.py)
        "exportToFile": ("sss", "b"),
        "changeAccountPassword": ("sss", "b"),
        "getNoiseSuppressState": ("", "s"),  # the audio preference noiseReduce (processing.py)
        "setNoiseSuppressState": ("s", ""),
    },
}
SIGNALS: dict[str, dict[str, str]] = {
    "cx.ring.Ring.CallManager": {
        "callStateChanged": "sssi",
        "incomingCallWithMedia": "sssaa{ss}",
        "conferenceCreated": "ss",
        "voiceMailNotify": "siii",
    },
    "cx.ring.Ring.ConfigurationManager": {
        "registrationStateChanged": "ssis",
        "volatileAccountDetailsChanged": "sa{ss}",
        "incomingTrustRequest": "sssayt",
        "contactAdded": "ssb",
        "contactRemoved": "ssb",
        "conversationRequestReceived": "ssa{ss}",
        "conversationRequestDeclined": "ss",
        "conversationReady": "ss",
    },
}

# Account detail keys (ConfigurationManager.getAccountTemplate("RING")).
ACCOUNT_TYPE = "Account.type"
ACCOUNT_USERNAME = "Account.username"  # the 40-hex Jami ID of a RING account
ACCOUNT_DISPLAY_NAME = "Account.displayName"
ACCOUNT_HOSTNAME = "Account.hostname"  # DHT bootstrap HOST:PORT[;HOST:PORT], or the SIP registrar
# JAMS enrolment at addAccount (jamid 13.7): the daemon POSTs a CSR to <uri>/api/auth/device with
# Basic auth of the username and the archive password, and takes its certificate from the answer.
ACCOUNT_MANAGER_URI = "Account.managerUri"
ACCOUNT_MANAGER_USERNAME = "Account.managerUsername"
ACCOUNT_ARCHIVE_PASSWORD = "Account.archivePassword"  # noqa: S105 - the key's name, not a password
ACCOUNT_REGISTERED_NAME = "Account.registeredName"
CERT_SHA1_FINGERPRINT = "SHA1_FINGERPRINT"  # getCertificateDetails: the certificate's fingerprint
CERT_PUBLIC_KEY_ID = "PUBLIC_KEY_ID"  # ... and its key's hash: the Jami ID for an account certificate
ACCOUNT_DEVICE_ID = "Account.deviceID"  # volatile: this device certificate's SHA-256 fingerprint (hex)
DEVICE_ANNOUNCED = "Account.deviceAnnounced"  # volatile: only then can the account be called
CONTACT_CONVERSATION = "conversationId"  # getContacts: the one-to-one conversation (Contact::toMap)
CALL_DISPLAY_NAME = "DISPLAY_NAME"  # getCallDetails: the name the peer gives itself
# A conversation request (getConversationRequests' entry, conversationRequestReceived's metadata),
# per ConversationRequest::toMap: its conversation, sender, arrival (epoch seconds), and what the
# conversation says of itself: "title" (a contact request's: its vCard's FN) and "mode" (a group
# invitation's only: ConversationMode 1-3; 0 is one-to-one; a contact request's has none).
REQUEST_CONVERSATION = "id"
REQUEST_FROM = "from"
REQUEST_RECEIVED = "received"
REQUEST_TITLE = "title"
REQUEST_MODE = "mode"
ONE_TO_ONE = "0"

MEDIA_AUDIO = "MEDIA_TYPE_AUDIO"  # libjami::Media::MediaAttributeValue::AUDIO, as muteLocalMedia takes it
AUDIO_ONLY = [
    {"MEDIA_TYPE": "MEDIA_TYPE_AUDIO", "ENABLED": "true", "MUTED": "false", "SOURCE": "", "LABEL": "audio_0"}
]

# What a new Jami account on a phone is: audio only, the appliance rings (the daemon's ringtone
# would play into the call when answered fast: a measured race), no LAN discovery by default.
PUBLIC_BOOTSTRAP = "bootstrap.jami.net"  # the daemon's own default Account.hostname

JAMI_ACCOUNT = {
    "Account.type": "RING",
    "Account.ringtoneEnabled": "false",
    "Account.videoEnabled": "false",
    "Account.upnpEnabled": "true",
    "TURN.enable": "false",
    "Account.peerDiscovery": "false",
    "Account.accountDiscovery": "false",
    "Account.accountPublish": "false",
}


def interface_xml(name: str) -> str:
    return (INTERFACE_DIR / f"{name}.xml").read_text()
