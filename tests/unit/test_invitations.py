"""Invitations to group conversations (Jami swarms of several members): a phone joins none; in
private mode it declines them, as they come and when private mode is turned on."""

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.phone import effects as fx
from appliance.phone.events import CallArrived, InvitationsChanged, SettingsChanged, TrustRequestsChanged
from appliance.phone.model import CallId

from .harness import STRANGER, PhoneBench, of, with_settings


def test_in_private_mode_an_invitation_is_declined_as_it_comes():
    bench = PhoneBench(with_settings(private_mode=True))
    assert bench.send(InvitationsChanged(("g1",))) == [fx.DeclineInvitation("g1")]
    # Told again (another one came, the first not declined yet): the first is not declined twice.
    assert bench.send(InvitationsChanged(("g1", "g2"))) == [fx.DeclineInvitation("g2")]
    assert bench.send(InvitationsChanged(())) == []


def test_out_of_private_mode_invitations_are_left_pending():
    bench = PhoneBench()
    assert bench.send(InvitationsChanged(("g1", "g2"))) == []
    assert bench.phone.invitations == ("g1", "g2")


def test_turning_private_mode_on_by_star_code_declines_those_pending():
    bench = PhoneBench()
    bench.send(InvitationsChanged(("g1", "g2")))
    bench.lift()
    out = bench.press("*60")
    assert of(out, fx.DeclineInvitation) == [fx.DeclineInvitation("g1"), fx.DeclineInvitation("g2")]
    assert fx.SaveFeature("private_mode", on=True) in out


def test_turning_private_mode_on_from_the_page_declines_those_pending():
    bench = PhoneBench()
    bench.send(InvitationsChanged(("g1",)))
    out = bench.send(SettingsChanged(with_settings(private_mode=True)))
    assert of(out, fx.DeclineInvitation) == [fx.DeclineInvitation("g1")]
    # A later change of settings with private mode still on declines nothing again.
    assert (
        of(bench.send(SettingsChanged(with_settings(private_mode=True, dnd=True))), fx.DeclineInvitation)
        == []
    )


def test_a_contact_request_pending_does_not_let_its_sender_ring_in_private_mode():
    """A current Jami app calls as soon as it sent its request: until the request is accepted,
    its sender is a stranger."""
    bench = PhoneBench(with_settings(private_mode=True))
    bench.send(TrustRequestsChanged(1))
    out = bench.send(CallArrived(CallId("in-1"), "jami", STRANGER, "Mallory"))
    assert of(out, fx.Refuse) == [fx.Refuse(CallId("in-1"), "private mode")]
    assert not bench.ringing


_steps = st.one_of(
    st.tuples(st.just("invitations"), st.lists(st.sampled_from(["g1", "g2", "g3"]), unique=True)),
    st.tuples(st.just("private"), st.booleans()),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_steps, max_size=30), st.booleans())
def test_in_private_mode_every_pending_invitation_is_declined_once_and_never_out_of_it(steps, private):
    bench = PhoneBench(with_settings(private_mode=private))
    declined: set[str] = set()  # declined while pending, since it was last told or private turned on
    for kind, value in steps:
        was_private = bench.phone.private_mode
        if kind == "invitations":
            out = bench.send(InvitationsChanged(tuple(value)))
        else:
            out = bench.send(SettingsChanged(with_settings(private_mode=value)))
        now = [d.conversation for d in of(out, fx.DeclineInvitation)]
        if not bench.phone.private_mode:
            assert now == []
            declined = set()
            continue
        if not was_private:
            declined = set()
        assert not declined & set(now)  # never twice while pending
        declined = (declined | set(now)) & set(bench.phone.invitations)
        assert declined == set(bench.phone.invitations)  # every pending one declined
