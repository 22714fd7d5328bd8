"""Hypothesis strategies for the Uploads conformance suite, one concept per module.

sizes       the documented limits; part sizes, declared sizes, size plans
payloads    virtual part contents (seed + size), streamed digests, `matches`
uploads     create request bodies: valid, invalid (with their fault), lenient
orderings   `part_ids` lists for completion, by kind, with what the docs expect
malformed   raw malformed requests and odd IDs for the robustness checks
lifecycles  short scripts of one upload's life for example-based tests
"""
