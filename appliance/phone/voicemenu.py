"""The voice menu: ``***`` from dial tone, read into the handset (pure, like the machine).

Keys come as key presses whether they were a keypad's, DTMF detected on the line or a rotary
dial's pulses. In the menu: 1 the page's address, 2 this phone's identity, 3 registration and
network state, 4 the firmware version, 5 the setup code while unclaimed, 9 restart (9 again to
confirm), 0 factory reset (confirmed by dialing a code the menu speaks); ``#`` says the last prompt
again, ``*`` goes back (from the menu itself: to dial tone).

What the handset hears is a function of the state (:func:`speech_of`), as the tones are: each new
prompt replaces the one before, so a key cuts a prompt short.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from . import effects as fx
from .model import AP_ADDRESS, AccountInfo, AccountKind, Menu, Mode, Phone, Registration, Target
from .phrases import phrase

IDLE = "menu"  # timer: no key for this long closes the menu (back to dial tone)
IDLE_S = 30.0
GOODBYE_S = 3.0  # a restart waits this long for its goodbye to be heard
CODE_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Turn:
    """What a key did to the menu: the menu now (None: closed, back to dial tone) and effects."""

    menu: Menu | None
    effects: tuple[fx.Effect, ...] = ()
    idle_s: float = IDLE_S  # no key for this long closes it (a message plays out first)
    place: Target | None = None  # closed by calling this back


def opened(phone: Phone) -> Turn:
    """The menu as ``***`` opens it: its list of items, and the device read for what it says."""
    return Turn(_say(Menu(), "intro", _lang(phone)), (fx.ReadDevice(),))


def pressed(phone: Phone, key: str, now: float) -> Turn:
    """``key`` pressed in the open menu."""
    menu = phone.menu or Menu()
    lang = _lang(phone)
    if key == "#":
        return Turn(replace(menu, said=menu.said + 1, entered=""))
    if key == "*":
        return Turn(None) if menu.level == "intro" else Turn(_say(menu, "intro", lang))
    if menu.level == "reset":
        return _reset_digit(menu, key, lang)
    if menu.level == "reboot" and key == "9":
        goodbye = _say(menu, "rebooting", lang, level="done")
        return Turn(goodbye, (fx.StartOver(wipe=False, after_s=GOODBYE_S),))
    if menu.level == "done":
        return Turn(menu)  # going down: nothing more to choose
    match key:
        case "1":
            return Turn(_tell(menu, address(phone), lang))
        case "2":
            return Turn(_tell(menu, identity(phone), lang))
        case "3":
            return Turn(_tell(menu, state(phone), lang))
        case "4":
            version = phone.device.version
            text = (
                phrase(lang, "version", version=dotted(version, lang))
                if version
                else phrase(lang, "version_unknown")
            )
            return Turn(_tell(menu, text, lang))
        case "5":
            code = phone.setup_code
            text = phrase(lang, "setup_code", code=spelled(code)) if code else phrase(lang, "no_setup_code")
            if phone.access_point:
                text = f"{access_point(phone)} {text}"
            return Turn(_tell(menu, text, lang))
        case "9":
            return Turn(_say(menu, "reboot_confirm", lang, level="reboot"))
        case "0":
            code = confirmation_code(now)
            ask = phrase(lang, "reset_confirm", code=spelled(code))
            return Turn(_tell(replace(menu, code=code), ask, lang, level="reset"))
        case _:
            return Turn(_tell(menu, phrase(lang, "no_item", key=key) + " " + phrase(lang, "intro"), lang))


def speech_of(phone: Phone) -> tuple[str, int] | None:
    """What the handset should be saying now (text and how many prompts were started), or None."""
    menu = phone.menu
    if not phone.off_hook or phone.mode is not Mode.MENU or menu is None or not menu.prompt:
        return None
    return menu.prompt, menu.said


def speech_changes(before: Phone, after: Phone, tone_after: object) -> list[fx.Effect]:
    """The effects that make the handset's speech follow the state: a new prompt is said; a prompt
    that ends with no tone after it is silenced (a tone after it replaces it anyway)."""
    was, now = speech_of(before), speech_of(after)
    if now is not None and now != was:
        menu = after.menu
        # After the prompt: the message playing, or the greeting just recorded (greeting.TAKE).
        message = menu.message if menu is not None and menu.level in ("messages", "greeting_review") else ""
        return [fx.Say(now[0], after.settings.language, message)]
    if now is None and was is not None and tone_after is None:
        return [fx.StopTone()]
    return []


# --- what the items say ----------------------------------------------------------------------


def access_point(phone: Phone) -> str:
    """The phone's own Wi-Fi, while it is open: its name (the serial's part spelled), its key in
    threes, where the page is on it."""
    lang = _lang(phone)
    words, _, suffix = phone.access_point.rpartition("-")
    name = f"{words.replace('-', ' ')}, {' '.join(suffix)}" if words else phone.access_point
    return phrase(lang, "access_point", name=name, key=spelled(phone.access_point_key),
                  address=dotted(AP_ADDRESS, lang))  # fmt: skip


def address(phone: Phone) -> str:
    lang = _lang(phone)
    if phone.access_point:  # the page is reached on the phone's own network for now
        return access_point(phone)
    device = phone.device
    page = device.page or phone.page_address
    if not page:
        return phrase(lang, "no_address")
    spoken = spoken_address(page, lang)
    if device.local_name:
        return phrase(lang, "address", address=spoken, name=dotted(device.local_name, lang))
    return phrase(lang, "address_only", address=spoken)


def identity(phone: Phone) -> str:
    lang = _lang(phone)
    said = []
    for account in _accounts(phone):
        if account.kind is AccountKind.JAMI and account.name:
            said.append(phrase(lang, "jami_name", name=account.name))
        elif account.kind is AccountKind.JAMI and account.uri:
            said.append(phrase(lang, "jami_id", id=grouped(account.uri)))
        elif account.kind is AccountKind.SIP:
            said.append(_sip_identity(account, lang))
    return " ".join(said) or phrase(lang, "no_account")


def _sip_identity(account: AccountInfo, lang: str) -> str:
    user, _, host = account.uri.partition("@")
    user = user.removeprefix("sip:") or account.id
    if not account.host and not host:
        return phrase(lang, "sip_direct", user=user)
    return phrase(lang, "sip", user=user, host=dotted(account.host or host, lang))


def state(phone: Phone) -> str:
    lang = _lang(phone)
    said = [] if phone.telephony_up else [phrase(lang, "service_down")]
    for account in _accounts(phone) if phone.telephony_up else ():  # a dead core's are stale
        word = {Registration.REGISTERED: "registered", Registration.TRYING: "trying"}.get(
            account.registration, "down"
        )
        if account.kind is AccountKind.JAMI:
            said.append(phrase(lang, f"jami_{word}"))
        else:
            user = account.uri.partition("@")[0].removeprefix("sip:") or account.id
            said.append(phrase(lang, f"sip_{word}", user=user))
    for name, ip in phone.device.links:
        kind = "wifi" if name.startswith("wl") else "ethernet" if name.startswith(("en", "eth")) else "link"
        said.append(phrase(lang, kind, name=name, address=dotted(ip, lang)))
    if not phone.device.links:
        said.append(phrase(lang, "no_network"))
    return " ".join(said)


# --- reading things out ----------------------------------------------------------------------


def spelled(text: str) -> str:
    """Digits one by one, in threes: ``123456`` -> ``1 2 3, 4 5 6``."""
    groups = [text[i : i + 3] for i in range(0, len(text), 3)]
    return ", ".join(" ".join(group) for group in groups)


def grouped(hex_id: str, size: int = 4) -> str:
    """A Jami ID in short groups, each read character by character: ``a1b2 c3d4`` -> ``a 1 b 2, c 3 d 4``."""
    groups = [hex_id[i : i + size] for i in range(0, len(hex_id), size)]
    return ", ".join(" ".join(group) for group in groups)


def dotted(text: str, lang: str) -> str:
    """Dots read as the word: ``192.168.1.20`` -> ``192 dot 168 dot 1 dot 20``."""
    return f" {phrase(lang, 'dot')} ".join(part for part in text.split(".") if part)


def spoken_address(page: str, lang: str) -> str:
    """``host:port`` as words, the port left out when it is the web's own (80)."""
    host, _, port = page.rpartition(":") if page.count(":") == 1 else (page, "", "")
    spoken = dotted(host, lang)
    return f"{spoken}, {phrase(lang, 'port')} {port}" if port and port != "80" else spoken


def confirmation_code(now: float) -> str:
    """A code to dial before a factory reset: different each time, so no key held down or dialed
    by habit erases the phone (not a secret: it is said aloud)."""
    digest = hashlib.sha256(f"reset:{now:.6f}".encode()).digest()
    return f"{int.from_bytes(digest[:4], 'big') % 10**CODE_DIGITS:0{CODE_DIGITS}d}"


def _accounts(phone: Phone) -> list[AccountInfo]:
    """Jami first, then SIP accounts, each kind by id: the same order every time it is read."""
    return sorted(phone.accounts, key=lambda a: (a.kind is not AccountKind.JAMI, a.id))


def _lang(phone: Phone) -> str:
    return phone.settings.language


def _say(menu: Menu, key: str, lang: str, *, level: str = "intro") -> Menu:
    return _tell(menu, phrase(lang, key), lang, level=level)


def _tell(menu: Menu, text: str, lang: str, *, level: str = "item") -> Menu:
    del lang
    keep_code = level == "reset"
    return replace(
        menu, level=level, prompt=text, said=menu.said + 1,
        code=menu.code if keep_code else "", entered="",
    )  # fmt: skip


def _reset_digit(menu: Menu, key: str, lang: str) -> Turn:
    if not key.isdigit():
        return Turn(menu)
    entered = menu.entered + key
    if len(entered) < len(menu.code):
        return Turn(replace(menu, entered=entered))
    if entered == menu.code:
        goodbye = _say(menu, "resetting", lang, level="done")
        return Turn(goodbye, (fx.StartOver(wipe=True, after_s=GOODBYE_S),))
    wrong = phrase(lang, "wrong_code") + " " + phrase(lang, "intro")
    return Turn(_tell(menu, wrong, lang, level="intro"))
