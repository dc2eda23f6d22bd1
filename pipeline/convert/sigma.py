"""One Sigma rule through one pySigma backend: its queries, or the backend's reason.

The result is plain JSON (`{"queries": [...]}` or `{"reason": ..., "detail": ...}`) so
that it crosses process boundaries and the cache as it is. `reason` is the exception's
class and the first sentence of its message with quoted values folded (`'Hashes'` →
`'…'`), so rules that fail the same way count under one reason; `detail` is the
message's first line as the backend wrote it, for the rule's own page.

The YAML is read by libyaml under the same limits as the detection parse
(`pipeline.core.limits`), then handed to pySigma as documents. Anything pySigma raises on a rule (its own errors, a RecursionError on deep nesting, a
ValueError from a pipeline) is that rule's reason and nothing more.

A batch of rules is converted with one combined processing pipeline (`convert_all`), as
pySigma converts a collection: `Backend.convert` would combine the backend's, the
user's and the output format's pipelines again for every rule (0.6 s of CPU over the
default corpus, an eighth of its conversion). Each rule still starts from the
pipeline as built: `ProcessingPipeline.apply` resets the pipeline's state per rule,
and `convert_all` puts back what a transformation changed in itself (`_as_built`), so
that a rule's result never depends on the rules converted before it.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable

from pipeline.core.limits import DEFAULT, Limits, yaml_load_all

MAX_DETAIL = 400
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
# `…field name encountered: Signed`: the one name at the end is the rule's, not the reason.
_TRAILING_NAME = re.compile(r"(:\s*)[A-Za-z0-9_.\-]+$")
# pyparsing's `(at char 5), (line:1, col:6)`: where in the rule, not why.
_POSITION = re.compile(r"\s*\(at char \d+\).*$")
_SENTENCE = re.compile(r"(?<=[a-z0-9)\]'\"])\.\s")


def reason_of(exc: BaseException) -> tuple[str, str]:
    """(reason, detail) of a failed conversion."""
    message = str(exc).strip()
    first = message.split("\n", 1)[0].strip()
    sentence = _SENTENCE.split(first, maxsplit=1)[0].rstrip(".: ")
    folded = _TRAILING_NAME.sub(r"\1…", _QUOTED.sub("'…'", _POSITION.sub("", sentence)))
    folded = re.sub(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "…", folded)
    if len(folded) > 160:
        folded = folded[:159] + "…"
    detail = first if len(first) <= MAX_DETAIL else first[: MAX_DETAIL - 1] + "…"
    return f"{type(exc).__name__}: {folded}" if folded else type(exc).__name__, detail


def _converted(backend: Any, collection: Any) -> Any:
    """`Backend.convert` of one file's rules with the pipeline `convert_all` combined:
    the references between its rules resolved, each rule (or correlation rule)
    converted in the backend's default format, the queries finalized."""
    # lazy: as in `convert`
    from sigma.rule import SigmaRule

    fmt = backend.default_format
    collection.resolve_rule_references()
    queries = [
        query
        for rule in collection.rules
        for query in (
            backend.convert_rule(rule, fmt) if isinstance(rule, SigmaRule) else backend.convert_correlation_rule(rule, fmt, None)
        )
    ]
    return backend.finalize(queries, fmt)


def convert_all(texts: Iterable[str], backend: Any, limits: Limits = DEFAULT) -> list[dict[str, Any]]:
    """`convert` of each text, with `backend`'s processing pipelines combined once for
    all of them (see the module's docstring)."""
    try:
        backend.init_processing_pipeline()
    except Exception:  # noqa: BLE001 - then each rule meets the same failure, as its own reason
        return [convert(text, backend, limits) for text in texts]
    built = _as_built(backend.last_processing_pipeline)
    out = []
    for text in texts:
        out.append(_result(text, lambda collection: _converted(backend, collection), limits))
        for obj, attributes in built:
            vars(obj).update(attributes)
    return out


def _as_built(pipeline: Any) -> list[tuple[Any, dict]]:
    """The attributes of the pipeline's items and transformations as built, to put back
    after each rule. A transformation may keep what one rule did: the Kusto pipelines'
    field check prepends each invalid field's name to its own message, so the next rule
    with an invalid field would be told about this one's too (pySigma-backend-kusto
    1.0.1; 29 µs a rule to put back)."""
    objects = []
    for item in (*pipeline.items, *pipeline.postprocessing_items, *pipeline.finalizers):
        objects.append(item)
        transformation = getattr(item, "transformation", None)
        if transformation is not None:
            objects.append(transformation)
    return [(obj, dict(vars(obj))) for obj in objects if hasattr(obj, "__dict__")]


def convert(text: str, backend: Any, limits: Limits = DEFAULT) -> dict[str, Any]:
    """`text` (a Sigma rule file, every YAML document of it) converted by `backend`,
    its YAML read under `limits`."""
    return _result(text, backend.convert, limits)


def _result(text: str, convert_collection: Callable[[Any], Any], limits: Limits) -> dict[str, Any]:
    """The rule's queries, or the reason it has none."""
    # lazy: pySigma costs ~0.3 s to import; only converting Sigma rules needs it
    from sigma.collection import SigmaCollection

    try:
        # What `SigmaCollection.from_yaml` does, with libyaml and the project's YAML limits
        # instead of PyYAML's pure-Python loader (two thirds of pySigma's time per rule).
        collection = SigmaCollection.from_dicts(yaml_load_all(text, limits=limits))
        queries = convert_collection(collection)
    except Exception as exc:  # noqa: BLE001 - the backend's failure is this rule's result
        reason, detail = reason_of(exc)
        return {"reason": reason, "detail": detail}
    out = [q for q in queries if isinstance(q, str) and q.strip()] if isinstance(queries, list) else []
    if isinstance(queries, str) and queries.strip():
        out = [queries]
    if not out:
        return {"reason": "no query: the backend returned nothing for this rule", "detail": ""}
    return {"queries": out}
