"""Settings for every part of Clip Live.

Settings come from three places. The first one that has a value wins:

1. environment variables named `CLIP_LIVE_<NAME>` (for example `CLIP_LIVE_CLIP_PRE=8`);
2. a JSON settings file (`CLIP_LIVE_SETTINGS_FILE`, or `config/settings.json` when it exists),
   whose keys may be written `clip_pre` or `clipPre`;
3. the defaults written below.

A bad value stops the program with one clear line that names the setting (see `SettingsError`).
"""

from .file import (
    DEFAULT_SETTINGS_FILE,
    ENV_PREFIX,
    SETTINGS_FILE_ENV,
    SettingsError,
    read_settings_file,
    settings_file,
)
from .model import Settings, load_settings, unknown_variables
from .speech import (
    DEFAULT_CALM_PHRASES,
    DEFAULT_EXCITED_PHRASES,
    DEFAULT_HYPE_WORDS,
    DEFAULT_STREAM_LEXICON,
)

__all__ = [
    "DEFAULT_CALM_PHRASES", "DEFAULT_EXCITED_PHRASES", "DEFAULT_HYPE_WORDS",
    "DEFAULT_SETTINGS_FILE", "DEFAULT_STREAM_LEXICON", "ENV_PREFIX", "SETTINGS_FILE_ENV",
    "Settings", "SettingsError", "load_settings", "read_settings_file", "settings_file",
    "unknown_variables",
]
