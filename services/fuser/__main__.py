"""Start the fuser: `python -m services.fuser`."""

from services.fuser.service import main
from services.fuser.worker import WORKER
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry(WORKER, main)
