"""Everything a participant does, in one package: request → ``acts`` → ``gate`` → ``votes`` → commit → signal.

- ``gate``: the one rule "may this browser act here now" (public? open, its schedule applied? eligible? banned?),
  answered from one indexed query; nothing, or a refusal.
- ``identity``: anonymous participants (hashed browser tokens) and the ban list.
- ``admission``: arriving with a personal XID link or an invite code.
- ``votes``: the one writer of votes (one vote, or many at once for the Pol.is import and the simulator).
- ``draw``: the next statement a participant is shown.
- ``acts``: vote and add a statement: gate → record → commit → ``signals.votes_changed``.

Importing this package imports none of its modules: callers name the one they use.
"""
