"""`clip-live`: start Clip Live and talk to it.

    clip-live run [URL]       watch a stream (no URL: a demo stream) and cut its highlights
    clip-live node            run some workers here against a Redis shared by many machines
    clip-live watch URL       watch one more stream with the running mesh
    clip-live unwatch NAME    stop watching a channel
    clip-live status          which services are alive, and which channels are watched
    clip-live clip            "clip that!": cut a clip of the last moments now
    clip-live keep ID         a good clip: move it to keep/ (the model learns from it)
    clip-live drop ID         a bad clip: move it to drop/
    clip-live retrain         learn from kept and dropped clips (--from-chat: from chat too)
    clip-live model           list model versions, or go back to one
    clip-live chat-spikes F   find chat spikes in a saved chat log
    clip-live export ID       make a 9:16 short of a clip (face framed, words burned in)
    clip-live eval KIND DATA  measure a detector on labelled data (voice, chat)
    clip-live graph           which service writes and which reads each stream
    clip-live health SERVICE  for container health checks
"""

from __future__ import annotations

# Only light modules here: `clip-live --help` must answer at once. Each command imports what
# it needs when it runs.
import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared.settings import Settings

COMMANDS = ("run", "node", "watch", "unwatch", "status", "clip", "keep", "drop", "retrain", "model",
            "chat-spikes", "eval", "graph", "health", "vod",
            "export")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clip-live",
        description="Clip Live watches a live stream and cuts a clip the moment it gets exciting.",
        epilog="Settings come from CLIP_LIVE_* environment variables and config/settings.json; "
               "see README.md. Each command has its own --help.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start every service and watch a stream",
                         description="Start Redis (unless CLIP_LIVE_REDIS_URL is set) and every "
                                     "service on this machine, then watch URL. Ctrl-C stops all.")
    run.add_argument("url", nargs="?", help="a Twitch channel URL, any URL streamlink or FFmpeg "
                                            "opens, or a local media file (none: a 3-minute "
                                            "demo stream with its own chat, looped)")
    run.add_argument("--channel", type=_channel, help="name for the channel (default: from URL)")
    run.add_argument("--quality", default="best", help="stream quality for streamlink "
                                                       "(default: best)")
    run.add_argument("-v", "--verbose", action="store_true",
                     help="show every service's log lines here too (they always go to "
                          "logs/clip-live.log in the data folder)")

    node = sub.add_parser(
        "node", help="run some of the workers here, against a Redis many machines share",
        description="Run the chosen workers on this machine against an existing Redis (no "
                    "Redis and no API of its own). Any number of nodes may join one Redis: "
                    "channels spread over them through leases, other work through consumer "
                    "groups, and the channels of a node that dies move to the others. All "
                    "nodes must share the data folder (CLIP_LIVE_DATA_DIR).")
    node.add_argument("--redis", metavar="URL",
                      help="the shared Redis (default: CLIP_LIVE_REDIS_URL)")
    node.add_argument("--services", metavar="LIST",
                      help="comma-separated workers to run, e.g. asr,fuser (default: every "
                           "worker but the API)")

    watch = sub.add_parser("watch", help="watch one more stream with the running mesh",
                           description="Ask the running mesh (see `clip-live run`) to watch URL "
                                       "too. Several channels can be watched at once.")
    watch.add_argument("url", help="a Twitch channel URL, any URL streamlink or FFmpeg opens, "
                                   "or a local media file")
    watch.add_argument("--channel", type=_channel, help="name for the channel (default: from URL)")
    watch.add_argument("--quality", default="best", help="stream quality (default: best)")

    unwatch = sub.add_parser("unwatch", help="stop watching a channel",
                             description="Stop watching CHANNEL; its clips stay.")
    unwatch.add_argument("channel", type=_channel)

    status = sub.add_parser("status", help="show the health of every service",
                            description="Show every service's heartbeat and every channel's "
                                        "state. Exit code 0: all up; 3: a service is down or "
                                        "a channel failed; 1: no mesh found.")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")

    clip = sub.add_parser("clip", help='"clip that!": make a clip of the last moments now',
                          description="Ask for a clip at the current moment: clip_pre seconds "
                                      "before it and clip_post after (see settings).")
    clip.add_argument("--channel", type=_channel, help="which channel (needed when several "
                                                       "are watched)")
    clip.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                      help="follow the job this long (default 120; 0: do not wait)")

    for verdict, about in (("keep", "a good clip: move it into keep/"),
                           ("drop", "a bad clip: move it into drop/")):
        judged = sub.add_parser(verdict, help=about,
                                description=f"{about[0].upper()}{about[1:]}. The nightly retrain "
                                            "learns from the clips in keep/ and drop/.")
        judged.add_argument("clip_id", help="the clip's id, e.g. demo-clip_20261121T045012Z")

    learn = sub.add_parser("retrain", help="train the model on kept and dropped clips",
                           description="Build labelled seconds from the events logs and the "
                                       "keep/drop folders, train, score on held-out seconds, "
                                       "and install the new model only if it is not worse. "
                                       "With --from-chat, chat labels the seconds too: each "
                                       "channel with enough labelled seconds gets a model of "
                                       "its own, installed only if it beats the one in use.")
    learn.add_argument("--nightly", action="store_true",
                       help="stay running and retrain every night at CLIP_LIVE_RETRAIN_HOUR "
                            "(from chat too, for every channel with chat logs)")
    learn.add_argument("--from-chat", action="store_true",
                       help="learn from the chat logs: seconds chat reacted to are exciting")
    learn.add_argument("--channel", type=_channel,
                       help="learn only this channel's own model (with --from-chat: from its "
                            "chat; else from its kept and dropped clips)")

    model = sub.add_parser("model", help="list model versions, or use another one",
                           description="With no argument: list the installed model versions, "
                                       "global and per channel (* marks the one in use). With "
                                       "VERSION: use that one; a running fuser picks it up "
                                       "within seconds.")
    model.add_argument("version", nargs="?",
                       help="e.g. v0001; with --channel, `global` stops using the channel's "
                            "own model")
    model.add_argument("--channel", type=_channel,
                       help="the channel whose own model to use (default: the global model)")

    spikes = sub.add_parser("chat-spikes", help="find the chat spikes in a saved chat log",
                            description="Read a TwitchDownloader JSON export, or plain lines "
                                        "`<unix time> <user>: <message>` (the chat service's "
                                        "own log too), and print each spike the live detector "
                                        "would find: a sustained burst of chat with its start, "
                                        "peak, end, estimated moment (start minus "
                                        "CLIP_LIVE_CHAT_REACTION_LAG_S) and strength. Times "
                                        "are the log's own: Unix seconds for plain lines, "
                                        "seconds into the video for JSON.")
    spikes.add_argument("file", type=Path, help="the chat log")
    spikes.add_argument("--json", action="store_true",
                        help="print JSON: {file, clock, detection_time, spikes: [{rank, start, "
                             "peak, end, moment, strength, messages, chatters, duration, "
                             "offset, features}]}")
    spikes.add_argument("--top", type=int, metavar="N",
                        help="only the N strongest spikes, strongest first")

    from launcher.eval.command import add_parser as add_eval

    add_eval(sub)

    from launcher.export import add_parser as add_export

    add_export(sub)
    from launcher.vod.args import add_parser as add_vod

    add_vod(sub)

    sub.add_parser("graph", help="show which service writes and which reads each stream",
                   description="Print every stream of the bus, the services that write it and "
                               "those that read it, as each service declares in "
                               "services/<name>/worker.py.")

    health = sub.add_parser("health", help="exit 0 if SERVICE on this host is alive",
                            description="For container health checks: exit 0 when SERVICE has a "
                                        "live heartbeat from this host, else 1.")
    health.add_argument("service", help="the service's name, e.g. ingest")
    return parser


def _channel(value: str) -> str:
    from shared.contracts import check_channel

    try:
        return check_channel(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def main(argv: Sequence[str] | None = None) -> None:
    try:
        sys.exit(run_command(list(sys.argv[1:] if argv is None else argv)))
    except KeyboardInterrupt:
        sys.exit(130)


def run_command(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "graph":  # Needs no settings and no mesh.
        from launcher.graph import graph_text

        print(graph_text())
        return 0
    from shared.settings import SettingsError, load_settings, unknown_variables

    try:
        settings = load_settings()
    except SettingsError as err:
        print(f"clip-live: {err}", file=sys.stderr)
        return 2
    for warning in unknown_variables():
        print(f"clip-live: warning: {warning}", file=sys.stderr)
    if args.command == "eval":
        from launcher.eval.command import run_eval

        return run_eval(args, settings)
    if args.command == "vod":
        from launcher.vod.command import run_vod

        return run_vod(args, settings)
    if args.command == "run":
        from launcher.run import run

        return run(settings, args.url, args.channel, args.quality, args.verbose)
    if args.command == "node":
        from launcher.node import run_node

        return run_node(settings, args.redis, args.services)
    from launcher import control, learning
    from shared.channels import channel_from_url
    from shared.embedded_redis import EmbeddedRedisError
    from shared.logs import setup_logging
    from shared.status import status_code

    setup_logging("clip-live", level=settings.log_level, fmt=settings.log_format,
                  secrets=settings.secrets())
    try:
        if args.command == "watch":
            name = args.channel or channel_from_url(args.url)
            asyncio.run(control.start_monitoring(settings, args.url, name, args.quality))
            print(f"asked the mesh to watch {args.url} as channel {name}")
            return 0
        if args.command == "unwatch":
            asyncio.run(control.stop_monitoring(settings, args.channel))
            print(f"asked the mesh to stop watching {args.channel}")
            return 0
        if args.command == "status":
            status = asyncio.run(control.gather_status(settings))
            if args.json:
                print(control.status_json(status))
            else:
                control.print_status(status, sys.stdout)
            return status_code(status)
        if args.command == "clip":
            return int(asyncio.run(control.request_clip(settings, args.channel, args.wait,
                                                        sys.stdout)))
        if args.command in ("keep", "drop"):
            return learning.judge_clip(settings, args.clip_id, args.command, sys.stdout)
        if args.command == "retrain":
            if args.nightly:
                return learning.nightly(settings)
            return learning.run_retrain(settings, sys.stdout, args.from_chat, args.channel)
        if args.command == "model":
            if args.version:
                return learning.use_model(settings, args.version, sys.stdout, args.channel)
            return learning.list_models(settings, sys.stdout)
        if args.command == "export":
            from launcher.export import run_export

            return run_export(settings, args, sys.stdout)
        if args.command == "chat-spikes":
            return _chat_spikes(settings, args.file, args.json, args.top)
        if args.command == "health":
            return 0 if asyncio.run(control.healthy_here(settings, args.service)) else 1
    except (control.MeshNotFound, EmbeddedRedisError) as err:
        print(f"clip-live: {err}", file=sys.stderr)
        return 1
    raise AssertionError(f"unknown command {args.command}")


def clip_live_script(argv: list[str]) -> None:
    """`python clip_live.py URL` is `clip-live run URL`; other commands pass through."""
    if (argv and argv[0] in COMMANDS) or argv[:1] in (["-h"], ["--help"]):
        main(argv)
    main(["run", *argv])


def _chat_spikes(settings: Settings, path: Path, as_json: bool, top: int | None) -> int:
    from services.chat import offline

    if top is not None and top < 1:
        print("clip-live: --top needs a number of spikes, 1 or more", file=sys.stderr)
        return 2
    try:
        chat = offline.read_chat_log(path)
        found = offline.detect(chat.entries, offline.DetectorConfig.from_settings(settings))[1]
    except (OSError, offline.ChatLogError) as err:
        print(f"clip-live: {err}", file=sys.stderr)
        return 1
    shown = offline.strongest(found, top)
    print(offline.spikes_json(shown, chat, path) if as_json
          else offline.format_spikes(shown, chat, path))
    return 0
