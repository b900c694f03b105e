"""stimwise: safe, personalised electrical stimulation therapy (TENS, NMES, microcurrent).

stimwise is clinical-decision support and research software. It is **not** a certified medical
device and does not replace a clinician's judgement.
"""

__version__ = "0.1.0"
