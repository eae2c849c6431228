"""Typed, layered, validated configuration (TOML): defaults -> board -> system file -> data directory."""
