"""The one exception a user can cause; the CLI prints it on one line and exits non-zero."""


class FacialEmotionError(Exception):
    """A problem with the user's input: the message names the file and the fix."""
