"""What the routes share, kept on `app.state` by the app factory, with typed getters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from shared.bus import Bus
from shared.settings import Settings

if TYPE_CHECKING:
    from services.api.websocket import Hub


def bus_of(request: Request) -> Bus:
    bus: Bus = request.app.state.bus
    return bus


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub
