"""Who may do what: people (users, roles, sign-in, TOTP, OIDC, quotas) and the API
keys that belong to them.

``keys`` (keys and scopes), ``users`` (users, roles, invites, resets), ``signin``
(passwords and TOTP, attempt limits, what a session stands for), ``totp``, ``oidc``
(single sign-on, ``gifdist[oidc]``), ``quotas``, ``usernames`` and ``passwords``.
"""
