"""Physiology engine: fibre models, volume conductors, a batched cable solver, thresholds.

A model, not a diagnosis: predictions explain and seed dosing; they are never a safe dose.
"""
