"""The default corpus's Sigma rules converted in batches with one combined processing
pipeline (`convert_all`) give each rule what pySigma's own `Backend.convert` gives it
on a fresh backend: nothing of one rule leaks into the next."""

from __future__ import annotations

import pytest

from pipeline.convert.run import BATCH_RULES, sigma_texts
from pipeline.convert.sigma import convert, convert_all
from pipeline.convert.targets import target

pytestmark = pytest.mark.realdata


@pytest.mark.parametrize("language", ["kusto", "sentinel", "splunk"])
def test_real_rules_in_batches_convert_as_alone(workspace_18, language):
    texts = sorted(set(sigma_texts(workspace_18.detections().detections).values()))
    assert len(texts) > 3000
    sample = texts[::7]  # about 580 rules, every kind of log source among them
    batched = []
    for i in range(0, len(sample), BATCH_RULES):
        batched += convert_all(sample[i : i + BATCH_RULES], target(language).backend())
    alone = [convert(text, target(language).backend()) for text in sample]
    assert batched == alone
    assert sum("queries" in r for r in batched) > len(sample) // 3
