"""Hypothesis strategies for the Uploads conformance suite, one concept per module.

sizes       part sizes, declared sizes, size plans, the next part of an upload
payloads    virtual part contents (seed + size), streamed digests, `matches`, md5 choices
uploads     create request bodies: valid, invalid (with their fault), lenient
orderings   `part_ids` lists for completion, by kind
malformed   raw malformed requests and odd IDs for the robustness checks

The API's limits and enums come from `conformance.api`; what the documentation expects of
a generated request is the oracle's (`conformance.model`) to say.
"""
