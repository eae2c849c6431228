"""Exit statuses the commands share (a module of its own: a command run early at boot, such as
``bootconfig``, imports it without the config machinery of :mod:`.common`)."""

EXIT_INVALID = 2  # input refused: each reason on stderr
