"""URL -> source kind and FFmpeg arguments (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.ingest.ffmpeg_args import build_args, segment_name
from services.ingest.sources import SourceError, capture_inputs, classify, public_source
from services.ingest.streamlink_open import make_session, plugin_options


@pytest.mark.parametrize(("url", "kind", "target"), [
    ("twitch.tv/somebody", "streamlink", "twitch.tv/somebody"),
    ("https://www.twitch.tv/somebody", "streamlink", "https://www.twitch.tv/somebody"),
    ("http://127.0.0.1:8080/live.m3u8", "streamlink", "http://127.0.0.1:8080/live.m3u8"),
    ("hls://http://127.0.0.1:8080/x.m3u8", "streamlink", "hls://http://127.0.0.1:8080/x.m3u8"),
    ("ffmpeg:http://127.0.0.1:8080/live.m3u8", "ffmpeg", "http://127.0.0.1:8080/live.m3u8"),
    ("rtmp://example.org/app/key", "ffmpeg", "rtmp://example.org/app/key"),
    ("/videos/game.mp4", "file", "/videos/game.mp4"),
    ("./game.ts", "file", "./game.ts"),
    ("file:///videos/my%20game.mp4", "file", "/videos/my game.mp4"),
])
def test_each_kind_of_url_finds_its_reader(url: str, kind: str, target: str) -> None:
    source = classify(url, platform="linux")
    assert (source.kind, source.target) == (kind, target)


def test_streamlink_sources_feed_ffmpeg_through_stdin() -> None:
    source = classify("twitch.tv/somebody")
    assert source.reads_stdin and source.input_args == ["-i", "pipe:0"]
    assert not source.ffmpeg_fallback  # no scheme: only streamlink can know it
    assert classify("https://example.org/video").ffmpeg_fallback


def test_hls_can_go_to_ffmpeg_alone_by_setting() -> None:
    source = classify("http://127.0.0.1:8080/live.m3u8", hls_via="ffmpeg")
    assert source.kind == "ffmpeg"
    assert source.input_args[-2:] == ["-i", "http://127.0.0.1:8080/live.m3u8"]
    assert "-rw_timeout" in source.input_args
    # Other HTTP URLs still try streamlink first.
    assert classify("https://example.org/page", hls_via="ffmpeg").kind == "streamlink"


def test_a_file_is_paced_in_real_time_and_is_not_live() -> None:
    source = classify("/videos/game.mp4")
    assert source.input_args == ["-re", "-i", "/videos/game.mp4"]
    assert not source.is_live and not source.reads_stdin


@pytest.mark.parametrize("url", ["", "   ", "ftp://example.org/x", "ffmpeg:"])
def test_unusable_urls_say_why(url: str) -> None:
    with pytest.raises(SourceError):
        classify(url)


def test_screen_capture_on_linux_takes_video_and_microphone_separately() -> None:
    url = "capture://screen?video=:0.0&audio=default"
    assert capture_inputs(url, platform="linux") == [
        "-f", "x11grab", "-framerate", "30", "-i", ":0.0", "-f", "pulse", "-i", "default"]
    source = classify(url, platform="linux")
    assert source.kind == "capture"
    assert (source.video_map, source.audio_map, source.pcm_map) == ("0:v:0", "1:a:0", "1:a:0")
    # Raw device video cannot be copied: it is encoded, with a key frame every segment.
    assert "libx264" in source.codec_args and "-force_key_frames" in source.codec_args
    assert source.codec_args[source.codec_args.index("-g") + 1] == "60"


def test_capture_options_and_other_platforms() -> None:
    url = "capture://screen?video=:1.0&audio=hw:0&audio_api=alsa&fps=25&size=1280x720"
    assert capture_inputs(url, platform="linux") == [
        "-f", "x11grab", "-framerate", "25", "-video_size", "1280x720", "-i", ":1.0",
        "-f", "alsa", "-i", "hw:0"]
    assert capture_inputs("capture://camera", platform="linux") == [
        "-f", "v4l2", "-framerate", "30", "-i", "/dev/video0", "-f", "pulse", "-i", "default"]
    assert capture_inputs("capture://screen", platform="darwin") == [
        "-f", "avfoundation", "-framerate", "30", "-i", "1:none",
        "-f", "avfoundation", "-i", "none:0"]
    assert capture_inputs("capture://screen?audio=Microphone (USB)", platform="win32") == [
        "-f", "gdigrab", "-framerate", "30", "-i", "desktop",
        "-f", "dshow", "-i", "audio=Microphone (USB)"]


@pytest.mark.parametrize("url", [
    "capture://window", "capture://screen?audio=none", "capture://screen?fps=fast",
    "capture://screen?size=big", "capture://camera?audio=x",  # no camera named on Windows
])
def test_bad_capture_urls_say_why(url: str) -> None:
    with pytest.raises(SourceError):
        capture_inputs(url, platform="win32" if "camera" in url else "linux")


def test_one_ffmpeg_writes_segments_and_pcm(tmp_path: Path) -> None:
    source = classify("twitch.tv/somebody")
    args = build_args(source, out_dir=tmp_path, segment_list=tmp_path / "list.csv",
                      start_number=7, segment_s=2.0, ffmpeg="ffmpeg")
    text = " ".join(args)
    assert args[0] == "ffmpeg" and "-i pipe:0" in text
    assert "-map 0:v? -map 0:a? -c copy -f segment -segment_time 2 -segment_format mpegts" in text
    assert f"-segment_list {tmp_path / 'list.csv'} -segment_list_type csv" in text
    assert "-segment_start_number 7" in text
    assert str(tmp_path / "seg_%06d.ts") in args
    assert text.endswith("-map 0:a:0 -af aresample=async=1:first_pts=0 -ac 1 -ar 16000 "
                         "-c:a pcm_s16le -f s16le pipe:1")
    assert segment_name(7) == "seg_000007.ts"


@pytest.mark.parametrize("url", [
    "ffmpeg:https://example.com/live.m3u8",
    "ffmpeg:http://example.com/video.mp4",
])
def test_ffmpeg_may_not_open_web_addresses_sent_over_the_api(url: str) -> None:
    with pytest.raises(SourceError, match="redirects unchecked"):
        public_source(classify(url))


@pytest.mark.parametrize("url", [
    "https://example.com/live.m3u8", "https://example.com/some/page", "twitch.tv/somebody",
    "rtmp://example.com/live/key",
])
def test_for_the_api_streamlink_opens_web_addresses_with_no_ffmpeg_fallback(url: str) -> None:
    source = public_source(classify(url, hls_via="streamlink"))
    assert source.ffmpeg_fallback is False
    assert source.kind == ("ffmpeg" if url.startswith("rtmp") else "streamlink")


@pytest.mark.parametrize("low_latency", [True, False])
def test_the_low_latency_setting_reaches_streamlink_and_the_twitch_plugin(
        low_latency: bool) -> None:
    """Twitch's low-latency stream (segments sent while they are made) and segment data passed
    on while it downloads, both from the one setting (no network: the plugin is only built)."""
    session = make_session(5.0, 5.0, low_latency)
    name, plugin, url = session.resolve_url("https://www.twitch.tv/somechannel")
    assert name == "twitch"
    assert plugin(session, url, plugin_options(low_latency)).get_option("low-latency") \
        is low_latency
    assert session.get_option("hls-segment-stream-data") is low_latency
