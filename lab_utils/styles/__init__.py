"""A style's dataset from any folder of music, or a composer in music21's corpus.

One path for every source, Bach's chorales included (``chorales.load_dataset`` builds through
it): find the files and read each once (``sources``; a content-hash cache makes a second build
instant and re-reads only changed files), on all cores with a progress bar; give every piece
four roles (the melody and three parts under it) by a stated rule, or a mapping file, and learn
each role's kind from the data (``roles``: ``voice`` one note at a time, ``chords`` several,
``drums``); keep the folder's most common meter; split per tune; and write the cache and a
report of what was used, what was skipped and why (``build``, ``report``). ``places`` says
where styles live and whose music each was built from.

Roles, by layout:

- **voices** (every part sings one note at a time, no drums: chorales, masses, string quartets):
  the four parts named soprano (cantus), alto (altus), tenor and bass (bassus), one each, any
  other parts (a chorale's trumpets) left out; else exactly four parts, top to bottom by their
  average pitch; else a keyboard reduction (a piano score of a chorale: two voices on each of two
  staves, or all four on one, as chords or as the staff's voices, no drums; a hymn's one MIDI
  track) split into its four voices, top to bottom. A piece of
  five or more voices is skipped with that reason: dropping voices
  from counterpoint leaves holes in its harmony (a mapping file can choose four).
- **band** (drums, chords, or more parts): the melody is the part named melody, lead, vocal,
  voice, soprano, tune, sing or flute, else the highest part on average; the bass is the lowest
  part of General MIDI's bass family (programs 33-40), else the lowest other part if it plays one
  note at a time, else none (a piano's chords stay in the accompaniment and the bass role is
  empty); the drums are every part on MIDI channel 10, blended; the accompaniment is every other
  pitched part, blended.
  A folder's layout is the one most of its pieces have; pieces of the other are skipped.
"""

from .build import BACH_METER, build_style, write_pieces
from .places import (REPORT_FILE, StyleError, check_replace, corpus_description, folder_description,
                     model_for_style, parts_folder, shipped_styles, style_folder, style_names)
from .report import ANY_METER, StyleReport, deciding_figures, distance_parts, read_reference, read_report
from .roles import MAPPING_FILE, assign_roles, role_kinds
from .sources import Source, build_part, corpus_sources, folder_sources

__all__ = ["BACH_METER", "build_style", "write_pieces", "REPORT_FILE", "StyleError", "check_replace",
           "corpus_description", "folder_description", "model_for_style", "parts_folder", "shipped_styles",
           "style_folder", "style_names", "ANY_METER", "StyleReport", "read_reference", "read_report", "distance_parts",
           "deciding_figures",
           "MAPPING_FILE", "assign_roles", "role_kinds", "Source", "build_part", "corpus_sources", "folder_sources"]
