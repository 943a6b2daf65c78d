"""Start the API gateway and dashboard: `python -m services.api`."""

from services.api.service import main
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry("api", main)
