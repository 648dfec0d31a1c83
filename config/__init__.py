"""Settings read from the environment, and the root of the control plane's errors.

May import: the standard library only.
"""

from config.errors import ConfigError, ControlPlaneError
from config.settings import Config

__all__ = ["Config", "ConfigError", "ControlPlaneError"]
