"""The default fixtures (fixtures.json): the demo application, its two orgs and their firmware.

Stable firmwareIds of the default fixtures (org DEMO_ORG_ID unless noted):

* ``fw-turbine-ctrl-3.2.1``: new firmware (no productKey), name in four locales, sha256 sign of
  ``b"fwportal demo firmware\\n"``; also in DEMO_ORG_ID_2 with version 3.3.0.
* ``fw-legacy-inverter-1.0.4``: old firmware (productKey BXwU4kMk), md5 sign, fileSize as a
  string, desc null, no firmwareTags and no verification thresholds.
* ``fw-no-name``: no name and no fileSize keys.
* ``fw-null-fields``: every optional field present but null.
* ``fw-xss-tags``: HTML in firmwareTags and desc, plus an unknown ``futureField``.
* ``fw-quote-name``: name with quotes, ``%`` and ``_``.
* ``fw-unicode-name``: name with a zh_CN value only.
* ``fw-unverified``: enableVerification true, isVerified false, thresholds present.
* ``fw-pitch-and-yaw``: name containing `` and ``.
"""

from pathlib import Path

DEFAULT_FIXTURES = str(Path(__file__).with_name("fixtures.json"))
DEMO_APP_KEY = "demo-access-key"
DEMO_APP_SECRET = "demo-secret-key"  # noqa: S105 - public demo credential of the fixtures
DEMO_ORG_ID = "o15475466766371"
DEMO_ORG_ID_2 = "o16000000000002"
