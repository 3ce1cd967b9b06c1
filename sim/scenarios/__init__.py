"""Scenarios: the worlds that make exceptions happen.

The YAML files in this folder are the shipped library; ``schema.py`` says what they may contain.
"""
