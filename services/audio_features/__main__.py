from services.audio_features.service import main
from shared.runtime import main_entry

if __name__ == "__main__":
    main_entry("audio_features", main)
