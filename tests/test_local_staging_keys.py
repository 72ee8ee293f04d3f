"""The local staging names what it serves by cluster and service, as ECS does: a staging and a
production service may share a name, and each has its own stable URL. No Docker needed."""

import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts" / "dev"))
from local_staging import LocalStaging


def test_a_service_is_found_by_cluster_and_name_or_by_a_name_one_cluster_has():
    local = LocalStaging()
    local.serving.update(
        {"staging/fraud-detector": "d1", "production/fraud-detector": "d2", "staging/other": "d3"}
    )
    assert local._serving_key("other") == "staging/other"
    assert local._serving_key("production/fraud-detector") == "production/fraud-detector"
    assert local._serving_key("missing") is None
    assert local._serving_key("production/other") is None
    with pytest.raises(ValueError, match="name it cluster/service"):
        local._serving_key("fraud-detector")
    assert local.url("missing") is None
    try:
        staging = local.url("staging/fraud-detector")
        production = local.url("production/fraud-detector")
        assert staging and production and staging != production
        assert local.url("staging/fraud-detector") == staging  # one URL per service
    finally:
        for forwarder in local._forwarders.values():
            forwarder.close()
