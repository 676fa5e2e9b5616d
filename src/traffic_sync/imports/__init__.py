"""Importing history written by other traffic tools into the data branch.

May import every folder up to `stages`.
"""
