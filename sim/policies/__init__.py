"""Policies: how exceptions are handled (detection, triage, routing, staffing, escalation).

The YAML files in this folder are the shipped library; ``schema.py`` says what they may contain.
"""
