"""How a message leaves Meridian. A channel finds the address, renders the content its own way and sends it.

Email is the only channel today. An SMS channel would implement the same three methods (an address from the
patient's phone, a short text from its own templates, a provider's API call) and be added to `CHANNELS`; the
sweeper, the send task and the outbox rows stay as they are.
"""

import contextlib
import smtplib
import time
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.utils import timezone

if TYPE_CHECKING:
    from notifications.content import Content
    from notifications.models import Message


class TransientSendError(Exception):
    """Worth trying again later: the server is down, busy or timed out (SMTP 4xx)."""


class PermanentSendError(Exception):
    """Trying again will not help: the server refused the address or the message (SMTP 5xx)."""


class Channel(Protocol):
    def address(self, message: "Message", content: "Content") -> str:
        """Where this message goes ('' when there is nowhere: no clinic inbox for a staff notice)."""

    def prepare(self, message: "Message", content: "Content", address: str) -> Any:
        """Render the message from its templates, so that one that cannot be rendered fails here, before any send."""

    def send(self, prepared: Any) -> None:
        """Deliver, or raise TransientSendError / PermanentSendError."""


# A connection idle longer than this is asked whether it is still open before a message goes over it.
_IDLE_CHECK_AFTER_SECONDS = 15


class EmailChannel:
    """Email through Django's configured backend (SMTP from EMAIL_URL, the console under `make run`, memory in
    tests). One connection is kept open per worker process: opening one per message would cap throughput."""

    def __init__(self) -> None:
        self._connection = None
        self._last_used = 0.0

    def address(self, message: "Message", content: "Content") -> str:
        return content.recipient_email

    def prepare(self, message: "Message", content: "Content", address: str) -> EmailMultiAlternatives:
        return self.compose(message, content, address)

    def send(self, prepared: EmailMultiAlternatives) -> None:
        # No second try here after a failure: the server may have taken the message before the line dropped, and
        # a retry would send it twice. The outbox tries again later; a kept connection is checked before reuse.
        try:
            self._deliver(prepared)
        except Exception as error:
            self.close()
            raise classify(error) from error

    def compose(self, message: "Message", content: "Content", address: str) -> EmailMultiAlternatives:
        context = content.context
        with timezone.override(content.zone):  # every time in the email in the location's zone
            text = render_to_string(f"emails/{message.kind}.txt", context)
            html = render_to_string(f"emails/{message.kind}.html", context)
        headers = {"Message-ID": message_id_header(message)}
        if content.unsubscribe_url:
            # RFC 8058 one-click: the mail provider POSTs to the link; a person following it is asked first.
            headers["List-Unsubscribe"] = f"<{content.unsubscribe_url}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        email = EmailMultiAlternatives(
            subject=content.subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[address],
            reply_to=[content.reply_to] if content.reply_to else None,
            headers=headers,
        )
        email.attach_alternative(html, "text/html")
        for attachment in content.attachments:
            email.attach(attachment.filename, attachment.content, attachment.mimetype)
        return email

    def _deliver(self, email: EmailMultiAlternatives) -> None:
        if self._connection is not None and time.monotonic() - self._last_used > _IDLE_CHECK_AFTER_SECONDS:
            self._close_if_dead()
        if self._connection is None:
            self._connection = get_connection(fail_silently=False)
            self._connection.open()
        email.connection = self._connection
        email.send(fail_silently=False)
        self._last_used = time.monotonic()

    def _close_if_dead(self) -> None:
        """A connection kept idle may have been closed by the server (most do after a minute or a few): ask it."""
        smtp = getattr(self._connection, "connection", None)  # None for the console and memory backends
        if smtp is None:
            return
        try:
            alive = smtp.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            alive = False
        if not alive:
            self.close()

    def close(self) -> None:
        """Drop the kept connection; the next message opens a new one (tests pointing at another server, too)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close; it is dropped anyway
                connection.close()


def message_id_header(message: "Message") -> str:
    """The same Message-ID on every attempt, so a mail client shows a rare second delivery as one message. From
    the row's random uid, not its id: after a database restore, ids come round again, and a mailbox that already
    holds a Message-ID silently drops the newcomer."""
    domain = urlsplit(settings.SITE_URL).hostname or "meridian.invalid"
    return f"<{message.uid}@{domain}>"


# Refusals that say "this message, or this address, will never be taken". Anything else from the server (a login
# refused after a password change, a sender refused while the domain is set up) is the clinic's to fix, and the
# message waits for it: retried, then failed and shown to staff.
_PERMANENT = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)


def classify(error: Exception) -> Exception:
    """Sort a delivery error into worth-retrying or not (SMTP's own 4xx/5xx where it gives one)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _text in error.recipients.values()]
        return (TransientSendError if all(400 <= code < 500 for code in codes) else PermanentSendError)(
            f"The address was refused ({', '.join(map(str, codes))})."
        )
    if isinstance(error, smtplib.SMTPResponseException):
        permanent = isinstance(error, _PERMANENT) and error.smtp_code >= 500
        return (PermanentSendError if permanent else TransientSendError)(f"The mail server said {error.smtp_code}.")
    if isinstance(error, BadHeaderError):  # a header no email may carry: the same every time
        return PermanentSendError(f"The email could not be built ({error}).")
    if isinstance(error, smtplib.SMTPException | OSError):
        return TransientSendError(f"The mail server could not be reached ({type(error).__name__}).")
    # Unforeseen: tried again a few times, then failed and shown to staff, rather than lost in a loop.
    return TransientSendError(f"Sending failed ({type(error).__name__}).")


CHANNELS: dict[str, Channel] = {"email": EmailChannel()}


def channel_for(name: str) -> Channel:
    return CHANNELS[name]
