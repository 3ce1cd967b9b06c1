"""The live backend: drive a scenario into an Odoo test database and watch what it does.

Where the simulator *predicts* how a policy detects exceptions, this package *measures* it on
a real Odoo (JSON-RPC up to 18, JSON-2 from 19; ``capabilities`` adapts to the version):
``seed`` creates master data, ``inject`` plays the
scenario's cases as real records, ``deploy`` installs the policy's detection as automation
rules, scheduled actions and webhooks, ``observe`` reads back what fired and writes an exsim
event log (``source='odoo'``), ``cleanup`` removes everything exsim created. Every write goes
through the test-database ``guard``; every call through one small ``transport``.
"""
