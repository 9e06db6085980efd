#!/usr/bin/env python3
"""Counts words and characters; the text arrives as BUTTONS_ARG_TEXT."""
import json
import os

text = os.environ["BUTTONS_ARG_TEXT"]
print(json.dumps({"words": len(text.split()), "characters": len(text)}))
