"""The device's own network, decided purely: what a Wi-Fi network and an address setting are
(:mod:`.wifi`, :mod:`.addressing`), when to open the setup access point (:mod:`.fallback`) and when
to re-join a dropped Wi-Fi link (:mod:`.watchdog`).

Standard library only, no I/O and no clock: the runtime reads the links (the network driver)
and the time, steps these machines and carries out what they decide, as the phone core is.
"""
