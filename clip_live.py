"""Start Clip Live: `python clip_live.py <url>` watches a stream and cuts its highlights.

The same as `clip-live run <url>`; `python clip_live.py status` and the other commands of
`clip-live` work too.
"""

import sys

from launcher.cli import clip_live_script

if __name__ == "__main__":
    clip_live_script(sys.argv[1:])
