from services.face.service import main
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry("face", main)
