"""What the project's own tests share, imported as `tests.support.<module>`.

- `serving`: targets on 127.0.0.1: any ASGI app, raw-socket servers, ports with no server.
- `cli`: the project's commands run as a user runs them (subprocesses), and what they wrote.
- `facts`: the API's documented facts, written down apart from the product's.
- `fake_targets`: the kit the fake Uploads targets are built from (facts, the error
  envelope, the objects, the API-key guard); the targets themselves: `schema_targets`,
  `lenient_target`, `broken_targets`, `variant_target`.
- `emulator_helpers`: raw HTTP calls to the emulator, and the checks every refusal gets.
- `adapter_helpers`: targets built around an adapter, and what a run through it found.
- `fake_driver`: a stand-in SDK driver program (run as a script, not imported).
- `report_samples`: a RunReport with every kind of result and hostile evidence.
- `request_rules`: independent readings of the request rules, to judge the strategies.
"""
