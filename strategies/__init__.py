"""Hypothesis strategies for the Uploads conformance suite, one concept per module.

sizes       part sizes, declared sizes, size plans, the next part of an upload (`SizeChoice`)
payloads    virtual part contents (seed + size), streamed digests, `matches`, md5 choices
uploads     create request bodies: valid, invalid (with their fault), lenient
orderings   `part_ids` lists for completion, by kind (`OrderChoice`)
malformed   raw malformed requests and odd IDs for the robustness checks

The state machine's choices (`SizeChoice`, `OrderChoice`, `MD5_CHOICES`) are drawn with a
fixed shape and read against the state a step finds, so that no draw depends on a target's
answers (`conformance.choices` says why).

The API's limits and enums come from `conformance.api`; what the documentation expects of
a generated request is the oracle's (`conformance.model`) to say.
"""
