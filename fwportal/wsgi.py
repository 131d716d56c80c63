"""
WSGI config for fwportal project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

from firmware.checks import refuse_to_serve_misconfigured

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fwportal.settings")

application = get_wsgi_application()
# Misconfigured, gunicorn's boot fails here with the check's one line, not at the first page.
refuse_to_serve_misconfigured()
