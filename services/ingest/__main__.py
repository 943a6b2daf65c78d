"""Run the ingest service: `python -m services.ingest`."""

from services.ingest import service
from services.ingest.worker import WORKER
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry(WORKER, service.main)
