"""Out-of-the-box settings: what Raspberry Pi Imager's "OS customisation" left on the boot partition.

:mod:`.bootfiles` reads them as data (never by running them; one module per form: :mod:`.firstrun`,
:mod:`.cloudinit`, :mod:`.preseed`) into a validated
:class:`~.settings.BootSettings`; :mod:`.render` writes what the device's system needs from it
under a root directory and puts the consumed boot files aside. ``appliance bootconfig`` ties the
two together for the image's early boot. :mod:`.sshkeys` is the one check of an SSH public key
(Imager's and the System page's); :mod:`.sshaccess` is the page's key requests, applied as root.
"""
