"""The data branch: its file formats (codec, alltime), the period folders and the one rule for
what a run reads and writes of them (folders), state.json as a record (state) and what a run
reads of the branch (view).

Imports only `core`; knows nothing of GitHub, git or PostHog (the stages hand it what they read).
"""
