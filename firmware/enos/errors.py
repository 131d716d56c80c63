"""The one error hierarchy of the EnOS client. Every error carries what EnOS support asks for."""


class EnosError(Exception):
    """Base: an EnOS call failed. `code` and `request_id` are EnOS's, when it sent them."""

    def __init__(self, message: str, *, code: int | None = None, request_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id


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
