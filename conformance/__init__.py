"""uploads-conformance: a property-based conformance suite for the OpenAI Uploads API.

The public API for running the suite from Python (the command line uses the same):

    from conformance import RunSettings, run
    report = run(RunSettings(base_url="http://127.0.0.1:8000/v1", api_key=key))
    report.exit_status  # 0 conformant, 1 a MUST requirement failed, 2 no run was possible
"""

from conformance.results import RunReport
from conformance.run import RunSettings, run

__all__ = ["RunReport", "RunSettings", "run"]
