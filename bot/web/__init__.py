"""The web console: a third front door onto the same use cases as Slack and Teams.

Server-rendered pages (Jinja2 through aiohttp-jinja2), a little JavaScript of our own for the
live check, Japanese first. ``install`` adds the routes to the bot's aiohttp application.
"""

from __future__ import annotations

from bot.web.console import CONSOLE_KEY, Console
from bot.web.routes import install

__all__ = ["CONSOLE_KEY", "Console", "install"]
