"""Exceptions raised by the segmentation package.

Both exceptions carry a message meant to be read by the person running the
pipeline: it names the setting or the data problem and says what to change.
"""

from __future__ import annotations

__all__ = ["ConfigError", "SegmentationError"]


class ConfigError(ValueError):
    """A ``segmentation`` setting is missing, of the wrong type or out of range.

    The message always starts with the setting path, for example
    ``segmentation.k_min``, followed by the offending value and what is
    allowed.
    """


class SegmentationError(RuntimeError):
    """The data cannot be segmented as configured.

    Raised for problems that no algorithm can work around, such as fewer
    customers than segments or no usable feature. The message explains the
    situation in one paragraph and suggests what to do.
    """
