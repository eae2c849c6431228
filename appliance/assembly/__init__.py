"""Building a running phone from its configuration: the one place that does it.

``appliance run``, ``appliance sim``, the web tests and the Jami tests all call :func:`assemble`:
drivers by registry name (:mod:`.drivers`), the config store that owns the saved configuration,
the call log, the supervisor, maintenance and the controllers the page talks to.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from appliance.config.load import ConfigError, Layer, Loaded, contacts_of, load_layers, settings_of
from appliance.config.schema import Config
from appliance.notices import Notices, Severity
from appliance.phone.events import ClockRead, ContactsChanged, SettingsChanged, SetupCodeChanged
from appliance.phone.model import DeviceInfo, Phone, Settings
from appliance.ports import CallRecorder, Network, Telephony
from appliance.runtime.call_log import FILE as CALL_LOG_FILE
from appliance.runtime.call_log import CallLog
from appliance.runtime.claim import Claim, page_address
from appliance.runtime.clock import read_local_clock
from appliance.runtime.config_store import ConfigChange, ConfigStore, Origin
from appliance.runtime.control import (
    AccountsController,
    ContactsController,
    Controllers,
    LogLines,
    MessagesController,
    NetworkController,
    Probes,
    ProvisioningController,
    SettingsController,
    SetupController,
    SimHandles,
    StatusController,
    SystemController,
    TrustController,
    VirtualPhone,
)
from appliance.runtime.firmware import FirmwareUpdates
from appliance.runtime.greeting import DIRECTORY as GREETING_DIR
from appliance.runtime.greeting import GreetingStore
from appliance.runtime.maintenance import Maintenance, Power
from appliance.runtime.messages import DIRECTORY as MESSAGES_DIR
from appliance.runtime.messages import MessageBox
from appliance.runtime.network import NetworkKeeper
from appliance.runtime.provisioning import Provisioning, kept_profile
from appliance.runtime.supervisor import DeviceReader, Ports, Supervisor
from appliance.update import KEYS_DIR as UPDATE_KEYS

from .drivers import DRIVERS, DriverContext, build_network, build_ports, check_drivers

__all__ = ["DRIVERS", "Assembly", "DriverContext", "assemble", "build_ports", "check", "check_drivers"]


def check(layers: list[Layer]) -> Loaded:
    """Load ``layers`` into a configuration, also checking the driver names against the registry."""
    loaded = load_layers(layers)
    problems = check_drivers(loaded.config)
    if problems:
        raise ConfigError(problems)
    return loaded


@dataclass
class Assembly:
    """A phone, built and not yet running: ``await assembly.supervisor.run()`` runs it."""

    store: ConfigStore
    ports: Ports
    supervisor: Supervisor
    call_log: CallLog
    control: Controllers
    sim: SimHandles | None  # the simulated board's hook and keypad, for the console and the page
    notices: Notices  # what the owner must be told about the device (page and display)
    provisioning: Provisioning  # fleet provisioning: ``start()`` once the phone runs
    network: NetworkKeeper  # Wi-Fi joins, the access point fallback, the link watchdog: ``start()``


def assemble(
    layers: list[Layer],
    data_dir: Path | None,
    *,
    version: str = "",
    power: Power | None = None,
    probes: Probes | None = None,
    log_lines: LogLines | None = None,
    telephony: Telephony | None = None,
    ports: Ports | None = None,
    notices: Notices | None = None,
    store: ConfigStore | None = None,
    device: DeviceReader | None = None,
    local_clock: Callable[[], ClockRead] | None = read_local_clock,
    mac: str | None = None,
    update_dir: Path | None = None,
    update_keys: Path = UPDATE_KEYS,
    network: Network | None = None,
) -> Assembly:
    """The phone for ``layers`` with its data in ``data_dir`` (None: in memory, the simulator).

    ``telephony`` replaces the configured core (the Jami tests bring a daemon in a namespace);
    ``ports`` replaces every driver (tests that shape their fakes); ``notices`` are the owner's,
    made earlier to hear what the loading found; ``store`` the config store made with them;
    ``device`` what the voice menu reads out about the device (the simulator's is fixed).
    ``local_clock`` the time of day (None: the simulator's script sets it). ``mac`` the MAC address
    provisioning and the status name the phone by (None: read from the network interfaces).
    ``update_dir`` the updater's hand-over directory for ``firmware.url`` (None: no update slots),
    ``update_keys`` the keys a bundle must be signed with. ``network`` replaces the network
    driver (tests that shape the simulated radio).
    """
    notices = notices if notices is not None else Notices()
    if store is None:
        profile = kept_profile(data_dir)
        store = ConfigStore(layers, data_dir, check=check, notices=notices, profile=profile)
    config = store.config
    if ports is None:
        ports = build_ports(config, data_dir, notices)
    if telephony is not None:
        ports = Ports(ports.hook, ports.keypad, ports.ringer, ports.tones, ports.display, telephony)
    call_log = CallLog(data_dir / CALL_LOG_FILE if data_dir is not None else None, notices=notices)
    messages = MessageBox(data_dir / MESSAGES_DIR if data_dir is not None else None)
    core = ports.telephony
    can_record = isinstance(core, CallRecorder) and core.can_record
    answers = AnsweringMachine(messages, can_record=can_record, notices=notices)
    phone = Phone.initial(answers.settings(config), contacts_of(config))
    debounce_s = config.hook.debounce_ms / 1000
    supervisor = Supervisor(
        ports, phone, debounce_s=debounce_s, features=store, call_log=call_log, notices=notices,
        device=device or device_reader(config, version), power=power if data_dir else None,
        local_clock=local_clock,
        messages=messages, greeting=GreetingStore(data_dir / GREETING_DIR if data_dir is not None else None),
    )  # fmt: skip
    store.on_change(lambda change: _tell_the_phone(supervisor, change, answers))
    sim = SimHandles(ports.hook, ports.keypad) if config.board.simulated else None
    if mac is None:
        from appliance.drivers.network import mac_address  # noqa: PLC0415 - sysfs, read once

        mac = mac_address()
    board = config.board.name
    firmware = FirmwareUpdates(store, supervisor, update_dir, mac=mac, board=board, version=version,
                               keys_dir=update_keys)  # fmt: skip
    provisioning = Provisioning(store, supervisor, data_dir, mac=mac, board=board, version=version,
                                power=power if data_dir else None, firmware=firmware)  # fmt: skip
    probes = probes or Probes()
    probes.mac = lambda: mac or ""
    status = StatusController(
        store, supervisor, call_log, simulated=sim is not None, version=version,
        probes=probes, log_lines=log_lines or LogLines(), notices=notices, provisioning=provisioning.status,
    )  # fmt: skip
    maintenance = Maintenance(
        data_dir or Path(), store, call_log, telephony=ports.telephony, power=power if data_dir else None,
        version=version,
    )  # fmt: skip
    contacts = ContactsController(store, supervisor)
    # Every board can tell its setup code now: on the display, or spoken by the voice menu (5).
    claim = Claim(data_dir, can_show=True)

    def address() -> str:  # worked out when told: DHCP may come after the start
        return page_address(config.web.listen, https=config.web.https)

    claim.on_change(lambda code: supervisor.post(SetupCodeChanged(code, address())))
    if claim.code:
        supervisor.post(SetupCodeChanged(claim.code, address()))
        claim.log_code()
    if network is None:
        network = build_network(config, data_dir, notices)
    keeper = NetworkKeeper(network, supervisor.post, ap_ssid=access_point_name())
    control = Controllers(
        status=status,
        settings=SettingsController(store),
        contacts=contacts,
        accounts=AccountsController(store, supervisor, data_dir),
        trust=TrustController(supervisor, contacts),
        system=SystemController(store, supervisor, maintenance),
        virtual_phone=VirtualPhone(supervisor, sim, status.status),
        setup=SetupController(claim, store),
        messages=MessagesController(messages),
        provisioning=ProvisioningController(provisioning),
        network=NetworkController(keeper),
    )
    logging.getLogger(__name__).debug("assembled %s", config.board.name)
    return Assembly(store, ports, supervisor, call_log, control, sim, notices, provisioning, keeper)


def access_point_name() -> str:
    """``Jami-Phone-XXXX``: the board's serial number's last four hex digits, as on its label."""
    from appliance.drivers.networkmanager import serial_suffix  # noqa: PLC0415 - a file read, once

    return f"Jami-Phone-{serial_suffix()}"


def device_reader(config: Config, version: str) -> DeviceReader:
    """The device as the voice menu reads it out: the page's address, this host's ``.local``
    name, each link's IPv4 address, the firmware version."""

    def read() -> DeviceInfo:
        from appliance.drivers.network import addresses  # noqa: PLC0415 - ioctls: quick, no round trip

        return DeviceInfo(
            page=page_address(config.web.listen, https=config.web.https),
            local_name=f"{socket.gethostname().partition('.')[0]}.local",
            links=tuple(sorted(addresses().items())),
            version=version,
        )

    return read


class AnsweringMachine:
    """The answering machine's settings as the phone gets them: on only where the telephony core
    can record calls (the owner told otherwise), and the message box's bounds kept current."""

    NOTICE = "answering-machine"

    def __init__(self, messages: MessageBox, *, can_record: bool, notices: Notices) -> None:
        self.messages, self.can_record, self.notices = messages, can_record, notices

    def settings(self, config: Config) -> Settings:
        settings = settings_of(config)
        self.messages.max_messages = config.voicemail.max_messages
        self.messages.max_bytes = config.voicemail.max_mb * 2**20
        if config.voicemail.enabled and not self.can_record:
            self.notices.raise_(
                self.NOTICE,
                f"The answering machine is on, but this phone's telephony core "
                f"({config.drivers.telephony}) cannot record calls yet: calls ring on as before.",
                Severity.WARNING,
            )
            return replace(settings, voicemail=replace(settings.voicemail, enabled=False))
        self.notices.clear(self.NOTICE)
        return settings


def _tell_the_phone(supervisor: Supervisor, change: ConfigChange, answers: AnsweringMachine) -> None:
    """The phone takes a saved change at once; its own star codes it already knows (but the
    answering machine switched on by one where nothing can record is switched off again)."""
    if change.origin == Origin.PHONE:
        if "voicemail" in change.sections and not answers.can_record:
            supervisor.post(SettingsChanged(answers.settings(change.config)))
        return
    supervisor.post(SettingsChanged(answers.settings(change.config)))
    if "contacts" in change.sections or change.origin == Origin.RESTORE:
        supervisor.post(ContactsChanged(contacts_of(change.config)))
