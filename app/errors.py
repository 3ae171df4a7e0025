"""Errors a user can cause and fix. The CLI prints them as one line and exits non-zero; the GUI shows them inline.

Hierarchy:
    UserError                 - bad input or an unusable environment, with a message that says what and where
    ├── DataError             - bad candle data (CSV row, NaN price, no data in range)
    ├── StorageError          - database unwritable, corrupt, or newer than this code
    └── ExchangeError         - the exchange (or simulator) refused or could not be reached
"""


class UserError(Exception):
    """Something the user can fix; `str(err)` is the whole message."""


class DataError(UserError):
    pass


class StorageError(UserError):
    pass


class ExchangeError(UserError):
    pass


def redact_url(url: str) -> str:
    """`url` with any user name and password replaced by ***, for messages."""
    import re

    return re.sub(r"(?<=//)[^/@]*@", "***@", url)
