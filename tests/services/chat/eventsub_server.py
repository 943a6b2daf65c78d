"""Twitch's side of EventSub chat, on loopback: the few Helix and OAuth calls twitchio makes,
and the EventSub websocket. The tests point twitchio at it, so the real client code talks
the real protocol without leaving this machine."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

CLIENT_ID = "loopback-client-id"
APP_TOKEN = "loopback-app-token"
USER_TOKEN = "loopback-user-token"
READER = {"login": "reader", "user_id": "777"}
USERS = {"streamer": "1971641"}


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())


class EventSubServer:
    """Answers twitchio's calls; `send` pushes an event to every subscribed websocket."""

    def __init__(self) -> None:
        self.port = 0
        self.subscriptions: list[dict[str, Any]] = []
        self.sockets: list[web.WebSocketResponse] = []
        self.refuse_user_token = False
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/oauth2/token", self._token)
        app.router.add_get("/oauth2/validate", self._validate)
        app.router.add_get("/helix/users", self._users)
        app.router.add_post("/helix/eventsub/subscriptions", self._subscribe)
        app.router.add_get("/ws", self._websocket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    async def drop_sockets(self) -> None:
        """Close every websocket, as a network drop would."""
        for ws in list(self.sockets):
            await ws.close()

    async def send(self, sub_type: str, event: dict[str, Any]) -> int:
        """Push one event of `sub_type` to each socket subscribed to it. Returns how many."""
        sent = 0
        for sub in self.subscriptions:
            ws = self._socket_of(sub["transport"]["session_id"])
            if sub["type"] != sub_type or ws is None:
                continue
            await ws.send_str(json.dumps({
                "metadata": {"message_id": f"m{next(self._ids)}", "message_type": "notification",
                             "message_timestamp": _stamp(), "subscription_type": sub_type,
                             "subscription_version": "1"},
                "payload": {"subscription": sub, "event": event},
            }))
            sent += 1
        return sent

    def _socket_of(self, session_id: str) -> web.WebSocketResponse | None:
        for ws in self.sockets:
            if not ws.closed and getattr(ws, "session_id", None) == session_id:
                return ws
        return None

    # ---- HTTP ------------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        return web.json_response({"access_token": APP_TOKEN, "expires_in": 5_000_000,
                                  "token_type": "bearer"})

    async def _validate(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").split(" ")[-1]
        if token == APP_TOKEN:
            return web.json_response({"client_id": CLIENT_ID, "scopes": [],
                                      "expires_in": 5_000_000})
        if token == USER_TOKEN and not self.refuse_user_token:
            return web.json_response({"client_id": CLIENT_ID, "scopes": ["user:read:chat"],
                                      "expires_in": 5_000_000, **READER})
        return web.json_response({"status": 401, "message": "invalid access token"}, status=401)

    async def _users(self, request: web.Request) -> web.Response:
        found = [{"id": USERS[login], "login": login, "display_name": login.capitalize(),
                  "type": "", "broadcaster_type": "", "description": "",
                  "profile_image_url": "", "offline_image_url": "", "view_count": 0,
                  "created_at": "2020-01-01T00:00:00Z"}
                 for login in request.query.getall("login", []) if login in USERS]
        return web.json_response({"data": found})

    async def _subscribe(self, request: web.Request) -> web.Response:
        body = await request.json()
        sub = {"id": f"sub{next(self._ids)}", "status": "enabled", "type": body["type"],
               "version": body["version"], "condition": body["condition"],
               "created_at": _stamp(), "cost": 0,
               "transport": {**body["transport"], "connected_at": _stamp()}}
        self.subscriptions.append(sub)
        return web.json_response({"data": [sub], "total": len(self.subscriptions),
                                  "total_cost": 0, "max_total_cost": 10}, status=202)

    # ---- The websocket -----------------------------------------------------------------------

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        ws.session_id = f"session{next(self._ids)}"  # type: ignore[attr-defined]
        self.sockets.append(ws)
        await ws.send_str(json.dumps({
            "metadata": {"message_id": f"m{next(self._ids)}", "message_type": "session_welcome",
                         "message_timestamp": _stamp()},
            "payload": {"session": {"id": ws.session_id,  # type: ignore[attr-defined]
                                    "status": "connected", "connected_at": _stamp(),
                                    "keepalive_timeout_seconds": 10, "reconnect_url": None}},
        }))
        keepalive = asyncio.create_task(self._keep_alive(ws))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.ERROR:
                    break
        finally:
            keepalive.cancel()
            self.sockets.remove(ws)
        return ws

    async def _keep_alive(self, ws: web.WebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(5)
            await ws.send_str(json.dumps({
                "metadata": {"message_id": f"m{next(self._ids)}",
                             "message_type": "session_keepalive",
                             "message_timestamp": _stamp()},
                "payload": {}}))
