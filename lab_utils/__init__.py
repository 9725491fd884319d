"""lab_utils: the helper package of the open DeepComposer workshop.

One module per concept: ``midi`` (files and piano rolls), ``chorales`` (the Bach dataset),
``audio`` (synthesis and playback), ``samples`` (built-in melodies), ``plots`` (pictures),
``metrics`` (musical figures), ``gan`` and ``harmonize`` (the harmonizing GAN and its decoding),
``voice_leading`` (Bach's voice leading, counted, and the joint decoder), ``arcnn`` (the enhancing
AR-CNN and its sampler), ``note_edits`` (its flips as note edits), ``training`` (fit, callbacks,
checkpoints), ``runs`` (run folders), ``evaluate`` (figures against Bach), ``files`` (atomic
writes), ``melody_source`` (a melody from a name, a file or typed notes), ``compose`` (the
challenge track's form and arrangement), ``mastering`` (its loudness and peaks), ``export`` (its
audio, picture and files), ``judging`` (its five criteria), ``studio`` (the widget app).
"""

__version__ = "0.1.0"
