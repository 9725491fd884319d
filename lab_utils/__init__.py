"""lab_utils: the helper package of the open DeepComposer workshop.

One module per concept, in layers that import downwards only (docs/DESIGN.md has the table and
``tests/test_layers.py`` holds the code to it):

1. ``files`` (atomic writes, where things live), ``midi`` (files and piano rolls),
   ``music_files`` (any music file into parts), ``audio`` (synthesis and playback);
2. ``pieces`` (the dataset type every style is held in), ``samples`` (built-in melodies),
   ``metrics`` (musical figures of rolls), ``two_sample`` (the classifier two-sample test),
   ``note_edits`` (cell flips as note edits), ``plots`` (pictures);
3. ``styles`` (a folder or corpus into a style), ``shards`` (training windows on disk),
   ``chorales`` (Bach's chorales, the default style), ``catalog`` (every style by name);
4. ``gan_config``, ``gan`` and ``harmonize`` (the harmonizing GAN and its decoding),
   ``voice_leading`` (Bach's voice leading, counted, and the joint decoder), ``arcnn`` (the
   enhancing AR-CNN), ``runtime`` (LiteRT and Keras runners), ``distribute``, ``training``
   (fit, callbacks, checkpoints), ``runs`` (run folders and their logs);
5. ``evaluate`` (a model's figures on melodies it never saw);
6. ``melody_source``, ``compose`` (the challenge track), ``mastering``, ``export``, ``judging``;
7. ``studio`` (the widget app) and the command line (``__main__`` over ``cli``).
"""

__version__ = "0.1.0"
