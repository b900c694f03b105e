"""What the pages and the API do, once: each function takes the acting user's
:class:`~stimwise.records.access.Actor`, works through the records repository (which checks the
role) and audits every read and write of patient data."""
