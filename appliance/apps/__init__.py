"""One module per command (kvmd style), each over the shared start-up in :mod:`.common`:
``run`` (the phone), ``web`` (its page as a process of its own), ``dht_node``, ``sim``, ``config``,
``dtmf``, ``update`` and ``bootconfig`` (Raspberry Pi Imager's settings from the boot partition).
Each has ``add_parser(subparsers)`` and a ``main(args) -> exit code``."""
