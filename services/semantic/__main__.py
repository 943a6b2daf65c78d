"""Run the semantic worker: `python -m services.semantic`."""

from services.semantic.service import main
from services.semantic.worker import WORKER
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry(WORKER, main)
