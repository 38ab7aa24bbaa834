"""Staff sign-in: password, lockout after repeated failures (django-axes), a code from an authenticator app when
two-factor is on (django-otp), and sessions that end after STAFF_IDLE_MINUTES without a request.

Token-authenticated API clients are not covered here: a token is a credential of its own, issued in the admin.
"""
