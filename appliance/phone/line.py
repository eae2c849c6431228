"""The analog line's loop-current disconnect when the far end clears (calling party control, CPC;
the "open switching interval" of answering machines and PBX trunks).

When the far end ends the last connected call and the phone stays off hook, the line first goes
back to forward polarity (:func:`.outputs.line_reversed`) and then loses its loop current for
``loop_disconnect_ms``: equipment that does not read the polarity releases the line on the loss of
current. Forward first, so the current comes back at the idle polarity: reversing after the open
would be one more polarity change, which a PBX reads as a new answer.

Not when the user hangs up (the loop opens by itself), not for a call that never connected (the
line was never reversed), and not while another call remains, held, waiting or being dialled: the
line is not idle then, and opening it would drop that call at a PBX.

While the loop is open the SLIC cannot tell the hook (no loop current reads as on hook), so hook
edges are only noted; once the current is back and has settled, the last one noted stands.
"""

from __future__ import annotations

from . import effects as fx
from .context import Step
from .events import HookChanged
from .model import Phone
from .outputs import line_reversed

TIMER = "loop"
# After the current is back: the SLIC's hook output settled and debounced (8 ms on adapter-style
# boards). A rising edge later than this is taken as a new lift, which gives the same dial tone.
SETTLE_S = 0.2


def far_end_cleared(before: Phone, after: Phone) -> bool:
    """The connected call ended while the phone stayed off hook, and no other call is left."""
    return (
        before.off_hook
        and after.off_hook
        and line_reversed(before)
        and not line_reversed(after)
        and not after.calls
    )


def disconnect(ctx: Step, before: Phone) -> None:
    """Open the loop if this step saw the far end clear (and the board can open it)."""
    ms = ctx.phone.settings.loop_disconnect_ms
    if ms and not ctx.phone.loop_open and far_end_cleared(before, ctx.phone):
        ctx.set(loop_open=True, loop_hook=None)
        ctx.arm(TIMER, ms / 1000 + SETTLE_S)
        ctx.emit(fx.OpenLoop(ms))


def noted(ctx: Step, event: HookChanged) -> bool:
    """While the loop is open a hook edge is only noted (True); the switch's own decoding waits."""
    if not ctx.phone.loop_open:
        return False
    ctx.set(loop_hook=event.off_hook)
    return True


def closed(ctx: Step) -> bool | None:
    """The loop has its current back: the hook level last noted while it was off (True: off
    hook), or None when no edge came."""
    seen = ctx.phone.loop_hook
    ctx.set(loop_open=False, loop_hook=None)
    return seen
