"""Start the vod worker: `python -m services.vod`."""

from services.vod.service import main
from services.vod.worker import WORKER
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry(WORKER, main)
