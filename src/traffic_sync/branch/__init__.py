"""The data branch: its file formats (codec, alltime), the period folders and the branch's rules.

Imports only `core`; knows nothing of GitHub, git or PostHog (the stages hand it what they read).
"""
