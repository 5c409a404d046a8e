"""Data sources, each ending in the one prepared format of :mod:`facial_emotion.data.prepared`."""
