"""EventSub event bodies shaped as Twitch documents them (channel.chat.message and
channel.chat.notification, version 1), for the EventSub tests."""

from __future__ import annotations

from typing import Any

BROADCASTER = {"broadcaster_user_id": "1971641", "broadcaster_user_login": "streamer",
               "broadcaster_user_name": "Streamer"}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cheermote": None, "emote": None, "mention": None}


def _emote(text: str, emote_id: str) -> dict[str, Any]:
    return {"type": "emote", "text": text, "cheermote": None, "mention": None,
            "emote": {"id": emote_id, "emote_set_id": "0", "owner_id": "0",
                      "format": ["static"]}}


def chat_message(login: str, text_parts: list[tuple[str, str | None]],
                 message_id: str = "cc106a89-1814-919d-454c-f4f2f970aae7") -> dict[str, Any]:
    """A `channel.chat.message` event. Each part is (text, emote id or None)."""
    fragments = [_emote(t, e) if e else _text(t) for t, e in text_parts]
    return {
        **BROADCASTER,
        "chatter_user_id": "4145994", "chatter_user_login": login,
        "chatter_user_name": login.capitalize(),
        "message_id": message_id,
        "message": {"text": "".join(t for t, _ in text_parts), "fragments": fragments},
        "color": "#00FF7F",
        "badges": [{"set_id": "subscriber", "id": "12", "info": "16"},
                   {"set_id": "premium", "id": "1", "info": ""}],
        "message_type": "text", "cheer": None, "reply": None,
        "channel_points_custom_reward_id": None, "channel_points_animation_id": None,
        "source_broadcaster_user_id": None, "source_broadcaster_user_login": None,
        "source_broadcaster_user_name": None, "source_message_id": None, "source_badges": None,
        "is_source_only": None,
    }


NOTICE_PARTS = ("sub", "resub", "sub_gift", "community_sub_gift", "gift_paid_upgrade",
                "prime_paid_upgrade", "raid", "unraid", "pay_it_forward", "announcement",
                "bits_badge_tier", "charity_donation", "shared_chat_sub", "shared_chat_resub",
                "shared_chat_sub_gift", "shared_chat_community_sub_gift",
                "shared_chat_gift_paid_upgrade", "shared_chat_prime_paid_upgrade",
                "shared_chat_raid", "shared_chat_pay_it_forward", "shared_chat_announcement",
                "watch_streak", "modiversary", "shared_chat_modiversary")


# What each notice type carries (Twitch's examples, cut to what the parts need).
NOTICE_BODIES: dict[str, dict[str, Any]] = {
    "raid": {"user_id": "49912639", "user_login": "raider", "user_name": "Raider",
             "viewer_count": 120, "profile_image_url": "https://example.invalid/raider.png"},
    "sub_gift": {"sub_tier": "1000", "duration_months": 1, "cumulative_total": None,
                 "community_gift_id": None, "recipient_user_id": "1",
                 "recipient_user_login": "lucky", "recipient_user_name": "Lucky"},
    "community_sub_gift": {"id": "4", "sub_tier": "1000", "total": 20, "cumulative_total": None},
    "resub": {"sub_tier": "1000", "is_prime": False, "is_gift": False, "duration_months": 1,
              "cumulative_months": 7, "streak_months": None, "gifter_is_anonymous": None,
              "gifter_user_id": None, "gifter_user_login": None, "gifter_user_name": None},
    "announcement": {"color": "BLUE"},
}


def notice(notice_type: str) -> dict[str, Any]:
    """A `channel.chat.notification` of one type (a `shared_chat_` type carries the body of
    its plain twin)."""
    body: dict[str, Any] = {
        **BROADCASTER,
        "chatter_user_id": "49912639", "chatter_user_login": "raider",
        "chatter_user_name": "Raider", "chatter_is_anonymous": False, "color": "",
        "badges": [], "system_message": "120 raiders from Raider have joined!",
        "message_id": "d0e1a1c4-0000-4c8b-b3c7-1d2c3b4a5f6e",
        "message": {"text": "", "fragments": []},
        "notice_type": notice_type,
        "source_broadcaster_user_id": None, "source_broadcaster_user_login": None,
        "source_broadcaster_user_name": None, "source_message_id": None, "source_badges": None,
    }
    body.update({part: None for part in NOTICE_PARTS})
    body[notice_type] = NOTICE_BODIES[notice_type.removeprefix("shared_chat_")]
    return body
