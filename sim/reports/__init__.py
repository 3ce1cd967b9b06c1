"""Reports: charts of a run, and the self-contained HTML report a consultant can mail.

Everything here reads run directories (``events.parquet``, ``summary.json``, ``scenario.yaml``,
``policy.yaml``) and nothing else: :mod:`.rundir` loads and checks them, :mod:`.charts` draws,
:mod:`.comparison` computes paired differences between policies, :mod:`.html` assembles the
page, :mod:`.style` keeps the look consistent.
"""
