"""``cfreplay.factories``: the public name of :mod:`cfreplay.cf.factories`, where it lives.

Importing this module gives that very module (one object, two names), so
``import cfreplay.factories``, ``from cfreplay import factories`` and monkeypatching either
name all act on the same code.
"""

import sys

from cfreplay.cf import factories as _real
from cfreplay.cf.factories import *  # noqa: F403 - the names static tools should see here

sys.modules[__name__] = _real
