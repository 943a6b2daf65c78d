"""Start the clipper: `python -m services.clipper`."""

from services.clipper.worker import WORKER
from shared.runtime import main_entry

from .service import main

if __name__ == "__main__":
    main_entry(WORKER, main)
