"""The Slack adapter: a slack-bolt AsyncApp whose listeners parse, call a use case and render.

No workflow decision is made here: behaviour lives once in ``handlers/`` (Teams reuses it).
"""
