"""The default fixtures (fixtures.json): the demo application, its two orgs, their firmware, OTA
jobs and device fleets (tasks and device versions are generated from them by ota.py).

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

OTA jobs (jobIds), telling where firmware stands:

* ``job-bx-271-verify``, ``job-bx-271-rollout``: ``2a384c6ba0cac464ebdff5c9`` (BXwU4kMk 2.7.1)
  verified (18 of 20 succeeded, 16 needed), then rolling out: 3,000 tasks, 2,712 succeeded,
  41 failed, 96 upgrading, 87 published, 64 init; name in four locales, every policy set.
* ``job-bx-400rc1-verify``: ``fw-unverified`` mid-verification that can still pass (20 tasks:
  9 succeeded, 2 failed, 9 to report; 15 needed).
* ``job-qw-362-verify``: ``3da5ab42e8157fdd21e7c6df`` cannot pass any more (5 tasks: 1
  succeeded, 3 failed, 1 upgrading; 4 needed).
* ``job-turbine-321-verify``: ``fw-turbine-ctrl-3.2.1``'s verification (new firmware, so the
  job has no productKey; its tasks name Tb7kR2xQ). In DEMO_ORG_ID_2: ``job-turbine-330-verify``.
* No jobs: ``fw-legacy-inverter-1.0.4`` (100 BXwU4kMk devices run 1.0.4), ``fw-no-name`` and
  the rest.

Fleets: BXwU4kMk 3,400 devices (INV-BX-00000…), Qw3rTy12 480 (CNV-QW-…), Tb7kR2xQ 60 (TRB-C-…;
12 in DEMO_ORG_ID_2).
"""

from pathlib import Path

DEFAULT_FIXTURES = str(Path(__file__).with_name("fixtures.json"))
DEMO_APP_KEY = "demo-access-key"
DEMO_APP_SECRET = "demo-secret-key"  # noqa: S105 - public demo credential of the fixtures
DEMO_ORG_ID = "o15475466766371"
DEMO_ORG_ID_2 = "o16000000000002"
