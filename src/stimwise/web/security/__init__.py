"""Sign-in and request protection: password hashing, sessions, CSRF tokens, login throttling
and security headers."""
