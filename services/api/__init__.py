"""The API gateway: REST, a websocket of live events, and the dashboard (`python -m services.api`).

`ensure_api_token` is here for the launcher: it makes (once) and reads the API's bearer token.
"""

from services.api.apitoken import ensure_api_token

__all__ = ["ensure_api_token"]
