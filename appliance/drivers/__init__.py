"""Real drivers for the ports: the only package that imports vendor libraries (gpiozero, pyalsaaudio,
evdev, luma.oled, dbus-fast). Each driver has a fake twin in ``appliance.fakes``.
"""
