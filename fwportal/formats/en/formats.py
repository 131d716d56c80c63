"""English date formats: a clock time, never Django's "midnight", "noon" or "p.m.", so every time
on a page reads the same way ("July 1, 2024, 12:00 AM JST")."""

DATETIME_FORMAT = "N j, Y, g:i A"
