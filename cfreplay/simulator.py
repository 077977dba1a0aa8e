"""``cfreplay.simulator``: the public name of :mod:`cfreplay.serve.simulator`, where it lives.

Importing this module gives that very module (one object, two names), so
``import cfreplay.simulator``, ``from cfreplay import simulator`` and monkeypatching either
name all act on the same code.
"""

import sys

from cfreplay.serve import simulator as _real
from cfreplay.serve.simulator import *  # noqa: F403 - the names static tools should see here

sys.modules[__name__] = _real
