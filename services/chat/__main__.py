"""Start the chat service: `python -m services.chat`."""

from services.chat.service import main
from services.chat.worker import WORKER
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry(WORKER, main)
