"""The Jami daemon (jamid) as the telephony core, over D-Bus with dbus-fast."""
