#!/usr/bin/env python3
"""Entry point: python3 training/train.py --config training/configs/default.json"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lesion_mtl.train import main  # noqa: E402

if __name__ == "__main__":
    main()
