"""The data branch: its file formats (codec, alltime), the period folders, state.json's repo
entries (state) and what a run reads of the branch (view).

Imports only `core`; knows nothing of GitHub, git or PostHog (the stages hand it what they read).
"""
