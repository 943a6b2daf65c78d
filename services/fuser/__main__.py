from services.fuser.service import main
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry("fuser", main)
