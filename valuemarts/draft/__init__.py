"""`valuemarts init-config`: a config drafted from a sample of export files, without any AI.

`profile` reads the samples (with the loader's own readers and archive limits) and says what they
hold; `config_text` writes a commented config in the reference system's format from that.
"""

from __future__ import annotations

from pathlib import Path

from valuemarts.draft.config_text import config_text
from valuemarts.draft.profile import profile_samples
from valuemarts.errors import ValueMartsError


def draft_config(samples: list[Path]) -> str:
    """A commented config for IH and/or holdings samples (files or folders, any format `load`
    reads) that `build` accepts as it is.

    Raises
    ------
    ValueMartsError
        No sample given, a sample that is neither IH nor holdings, or one that cannot be read.
    """
    if not samples:
        raise ValueMartsError("init-config: give at least one sample file or folder")
    return config_text(profile_samples(samples), samples)
