"""Clips through the API: listing, metadata, why a clip was made, its picture, the video with
Range requests, captions, and keep/drop moving the files. The clips are real small mp4 files
recorded as the clipper does."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from shared.bus import Bus
from shared.contracts import ClipWhy
from shared.settings import Settings
from shared.streams import clip_key
from tests.services.api.support import AUTH, RunningApi, store_clip


async def test_listing_filters_and_pages_newest_first(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    now = time.time()
    for n, (channel, reason) in enumerate([("alpha", "model"), ("beta", "manual"),
                                           ("alpha", "manual")]):
        await store_clip(bus, api.settings, channel, f"clip_{n}", wall=now - 100 + n,
                         reason=reason)
    page = (await client.get("/api/clips")).json()
    assert page["total"] == 3 and page["offset"] == 0
    assert [c["clip_id"] for c in page["items"]] == [
        "alpha-clip_2", "beta-clip_1", "alpha-clip_0"]

    async def ids(**params: object) -> tuple[int, list[str]]:
        body = (await client.get("/api/clips", params=params)).json()
        return body["total"], [c["clip_id"] for c in body["items"]]

    assert await ids(limit=1, offset=1) == (3, ["beta-clip_1"])
    assert await ids(channel="alpha") == (2, ["alpha-clip_2", "alpha-clip_0"])
    assert await ids(channel="alpha", limit=1, offset=1) == (2, ["alpha-clip_0"])
    assert await ids(reason="manual") == (2, ["alpha-clip_2", "beta-clip_1"])
    assert await ids(since=now - 99.5) == (2, ["alpha-clip_2", "beta-clip_1"])
    assert await ids(until=now - 99.5) == (1, ["alpha-clip_0"])
    assert await ids(verdict="none") == (3, ["alpha-clip_2", "beta-clip_1", "alpha-clip_0"])
    assert await ids(verdict="keep") == (0, [])
    assert (await client.get("/api/clips", params={"limit": 0})).status_code == 422


async def test_metadata_video_with_ranges_and_captions(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    clip = await store_clip(bus, api.settings, "alpha", "clip_20261121T045012Z")
    meta = (await client.get(f"/api/clip/{clip.clip_id}", headers=AUTH)).json()
    assert meta["clip_id"] == clip.clip_id and meta["channel"] == "alpha"
    assert meta["duration"] == 1.0 and meta["t"] == 20.0 and meta["verdict"] is None
    assert meta["file"] == "clip_20261121T045012Z.mp4"
    assert meta["details"]["timings"] == {"cut_s": 0.1}  # JSON fields come back as values
    assert meta["details"]["source_url"] == "https://example.com/x.m3u8"
    anonymous = (await client.get(f"/api/clip/{clip.clip_id}")).json()  # reads are open here
    assert "source_url" not in anonymous["details"]  # but URLs and paths need the token
    assert anonymous["details"]["timings"] == {"cut_s": 0.1}

    size = Path(clip.video).stat().st_size
    whole = await client.get(meta["video_url"])
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.content == Path(clip.video).read_bytes()
    assert whole.headers["accept-ranges"] == "bytes"
    part = await client.get(meta["video_url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    assert part.headers["content-range"] == f"bytes 0-99/{size}"
    assert part.content == Path(clip.video).read_bytes()[:100]
    tail = await client.get(meta["video_url"], headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == Path(clip.video).read_bytes()[-10:]
    bad = await client.get(meta["video_url"], headers={"Range": f"bytes={size + 5}-"})
    assert bad.status_code == 416

    srt = await client.get(meta["captions_url"])
    assert srt.status_code == 200 and "what a shot" in srt.text


async def test_a_clip_says_why_and_serves_its_picture(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus
) -> None:
    why = ClipWhy(trigger="model", t=82.0, probability=0.88, votes={"chat": False},
                  contributions={"loud_z": 2.1})
    clip = await store_clip(bus, api.settings, "alpha", "clip_9", why=why, thumbnail=True, t=82.0)
    plain = await store_clip(bus, api.settings, "alpha", "clip_8", wall=clip.wall - 1)
    [listed, older] = (await client.get("/api/clips")).json()["items"]
    assert listed["why"] == why.model_dump() and "why" not in listed["details"]
    assert listed["thumbnail_url"] == f"/api/clip/{clip.clip_id}/thumbnail"
    assert "thumbnail" not in listed["details"]  # no server paths
    assert (older["clip_id"], older["why"], older["thumbnail_url"]) == (plain.clip_id, None, "")

    picture = await client.get(listed["thumbnail_url"])
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert picture.content == Path(clip.thumbnail).read_bytes()
    assert picture.content[:2] == b"\xff\xd8"
    missing = await client.get(f"/api/clip/{plain.clip_id}/thumbnail")
    assert missing.status_code == 404


async def test_path_tricks_find_nothing(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus, settings: Settings
) -> None:
    clip = await store_clip(bus, api.settings, "alpha", "clip_1")
    secret = settings.data_dir.parent / "secret.mp4"
    secret.write_bytes(b"not for you")
    for path in ("/api/clip/..%2F..%2Fsecret", "/api/clip/../../secret/video",
                 "/api/clip/%2e%2e/video", "/api/clip/alpha-clip_1%2F..%2F..%2Fx/video",
                 "/api/clip/..", "/api/clip/a.b/video", "/api/clip/nothing/video"):
        answer = await client.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
    # A record that points outside the data folder is not served, even if the file exists.
    await bus.redis.hset(clip_key(clip.clip_id), mapping={"video": str(secret)})
    assert (await client.get(f"/api/clip/{clip.clip_id}/video")).status_code == 404
    # The picture likewise, and only a .jpg is served as one.
    secret_jpg = settings.data_dir.parent / "secret.jpg"
    secret_jpg.write_bytes(b"\xff\xd8 not for you")
    for target in (secret_jpg, settings.data_dir / "clips" / "alpha" / "clip_1.json"):
        await bus.redis.hset(clip_key(clip.clip_id), mapping={"thumbnail": str(target)})
        answer = await client.get(f"/api/clip/{clip.clip_id}/thumbnail")
        assert answer.status_code == 404, target
    assert (await client.post(f"/api/clip/{clip.clip_id}/keep", headers=AUTH)).status_code == 404
    assert secret.read_bytes() == b"not for you"


async def test_keep_and_drop_move_the_files_and_record_the_verdict(
    api: RunningApi, client: httpx.AsyncClient, bus: Bus, settings: Settings
) -> None:
    clip = await store_clip(bus, api.settings, "alpha", "clip_7")
    data = settings.data_dir.resolve()
    kept = await client.post(f"/api/clip/{clip.clip_id}/keep", headers=AUTH)
    assert kept.status_code == 200, kept.text
    assert kept.json()["verdict"] == "keep"
    folder = data / "keep" / "alpha"
    assert sorted(p.name for p in folder.iterdir()) == ["clip_7.json", "clip_7.mp4", "clip_7.srt"]
    assert not Path(clip.video).exists()
    sidecar = json.loads((folder / "clip_7.json").read_text())
    assert sidecar["verdict"] == "keep" and sidecar["video"] == str(folder / "clip_7.mp4")
    record = await bus.redis.hgetall(clip_key(clip.clip_id))
    assert record[b"verdict"] == b"keep" and record[b"video"] == str(folder / "clip_7.mp4").encode()
    video = await client.get(f"/api/clip/{clip.clip_id}/video", headers={"Range": "bytes=0-9"})
    assert video.status_code == 206 and len(video.content) == 10  # still served, from keep/

    listed = (await client.get("/api/clips", params={"verdict": "keep"})).json()
    assert [c["clip_id"] for c in listed["items"]] == [clip.clip_id]

    dropped = await client.post(f"/api/clip/{clip.clip_id}/drop", headers=AUTH)
    assert dropped.status_code == 200 and dropped.json()["verdict"] == "drop"
    assert sorted(p.name for p in (data / "drop" / "alpha").iterdir()) == [
        "clip_7.json", "clip_7.mp4", "clip_7.srt"]
    assert list(folder.iterdir()) == []
    again = await client.post(f"/api/clip/{clip.clip_id}/drop", headers=AUTH)
    assert again.status_code == 200  # judging twice the same way changes nothing
    assert (data / "drop" / "alpha" / "clip_7.mp4").is_file()
    assert (await client.post("/api/clip/alpha-nothing/keep", headers=AUTH)).status_code == 404
