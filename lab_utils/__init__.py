"""lab_utils: the helper package of the open DeepComposer workshop.

One module per concept: ``midi`` (files and piano rolls), ``chorales`` (the Bach dataset),
``audio`` (synthesis and playback), ``samples`` (built-in melodies), ``plots`` (pictures),
``metrics`` (musical figures), ``gan`` and ``harmonize`` (the harmonizing GAN and its decoding),
``arcnn`` (the enhancing AR-CNN and its sampler), ``training`` (fit, callbacks, checkpoints),
``runs`` (run folders), ``evaluate`` (figures against Bach), ``files`` (atomic writes),
``compose`` (the challenge track), ``judging`` (its five criteria), ``studio`` (the widget app).
"""

__version__ = "0.1.0"
