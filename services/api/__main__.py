"""Start the API gateway and dashboard: `python -m services.api`."""

from services.api.service import main
from services.api.worker import WORKER
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry(WORKER, main)
