"""What the services announce (blinker signals, as Flask's own): the web app connects its reactions once."""

from blinker import Namespace

_signals = Namespace()

#: Sent after a commit that changed what a consultation's analysis counts (votes, statements' moderation, bans,
#: deleted participations, imports), with the consultation's id as the sender. ``create_app`` connects the
#: analysis runner; with no receiver (a script) nothing happens.
votes_changed = _signals.signal("votes-changed")
