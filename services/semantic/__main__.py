"""Run the semantic worker: `python -m services.semantic`."""

from services.semantic.service import main
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry("semantic", main)
