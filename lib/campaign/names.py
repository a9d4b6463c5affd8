"""The one list of notebooks and of profiles. Standard library only, so the
Makefile can ask it before the virtual environment exists:

    python3 -m lib.campaign.names notebooks|profiles|default-profile
"""

import sys

#: The notebooks, in the order the collection presents them (each has
#: ``notebooks/<name>.ipynb``, ``lib/campaign/experiments/<name>.py`` and
#: ``params/<name>/<profile>.yaml``).
NOTEBOOKS = ("bc_learning", "resnet_ablation", "natural_artificial_loss", "mixup_baseline",
             "training_tricks")
#: Computed like a notebook, reported by ``python -m lib calibrate``.
OTHERS = ("calibration",)
#: Every profile, smallest first (docs/design.md says what each is for).
PROFILES = ("smoke", "budget", "paper")
#: The profile notebooks, ``make all`` and the command line use unless told otherwise.
DEFAULT_PROFILE = "budget"

if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    answers = {"notebooks": NOTEBOOKS, "profiles": PROFILES, "default-profile": (DEFAULT_PROFILE,)}
    if what not in answers:
        sys.exit(f"usage: python3 -m lib.campaign.names {'|'.join(answers)}")
    print(" ".join(answers[what]))
