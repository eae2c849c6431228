"""The asyncio shell around the pure phone: events in, effects out, timers, lifecycle."""
