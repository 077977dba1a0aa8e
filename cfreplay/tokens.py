"""``cfreplay.tokens``: the public name of :mod:`cfreplay.cf.tokens`, where it lives.

Importing this module gives that very module (one object, two names), so
``import cfreplay.tokens``, ``from cfreplay import tokens`` and monkeypatching either
name all act on the same code.
"""

import sys

from cfreplay.cf import tokens as _real
from cfreplay.cf.tokens import *  # noqa: F403 - the names static tools should see here

sys.modules[__name__] = _real
