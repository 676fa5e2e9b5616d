"""traffic-sync: keep GitHub traffic history forever."""

__version__ = "0.1.0"
