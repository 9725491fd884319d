"""lab_utils: the helper package of the open DeepComposer workshop.

One module per concept: ``midi`` (files and piano rolls), ``chorales`` (the Bach dataset),
``audio`` (synthesis and playback), ``samples`` (built-in melodies), ``plots`` (pictures).
"""

__version__ = "0.1.0"
