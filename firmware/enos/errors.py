"""The one error hierarchy of the EnOS client. Every error carries what EnOS support asks for."""


class EnosError(Exception):
    """Base: an EnOS call failed. `code` and `request_id` are EnOS's, when it sent them."""

    def __init__(self, message: str, *, code: int | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id

    def __reduce__(self):
        # Shared through the cache with whoever waited on the call; keyword fields included.
        return _rebuild, (type(self), self.message, self.__dict__)


def _rebuild(cls: type[EnosError], message: str, state: dict) -> EnosError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.__dict__.update(state)
    return error


class NotFound(EnosError):
    """EnOS says the firmware does not exist (code 24404)."""


class CredentialsRejected(EnosError):
    """EnOS refused the org's access key, secret key or request signature."""


class CredentialsUnreadable(EnosError):
    """The org's stored secret key cannot be decrypted, so EnOS could not be asked at all."""


class UpstreamError(EnosError):
    """EnOS answered with an error: a non-zero code or an HTTP 5xx."""


class UpstreamTimeout(EnosError):
    """EnOS did not answer within the read timeout."""


class Unreachable(EnosError):
    """No connection to the EnOS gateway could be made, or it dropped the connection."""


class BadResponse(EnosError):
    """EnOS answered something that is not the documented JSON envelope."""


class RateLimited(EnosError):
    """EnOS answered 429: no call for this org before `retry_after` seconds have passed."""

    def __init__(self, message: str, *, retry_after: float, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Busy(EnosError):
    """fwportal already has as many calls to this org's gateway in flight as it allows."""
