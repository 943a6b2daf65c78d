"""Start the chat service: `python -m services.chat`."""

from services.chat.service import main
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry("chat", main)
