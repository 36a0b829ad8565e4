"""Entity group transactions ($batch): 100 operations in one partition, all-or-nothing, the failing
operation's index in the message. Evidence: recordings TestBatchAdd, TestBatchError ("2:The specified
entity already exists."), TestBatchErrorHandleResponse (InvalidDuplicateRow, "3:..."), and the REST
reference (Performing entity group transactions; Table Storage error codes)."""

import pytest
from azure.data.tables import TableTransactionError, UpdateMode

import table_helpers as th
from table_conftest_fixtures import *  # noqa: F401,F403


def test_batch_of_100_mixed_operations(table):
    for i in range(50):
        table.create_entity({"PartitionKey": "p", "RowKey": f"old{i:03d}", "V": i})
    ops = [("create", {"PartitionKey": "p", "RowKey": f"new{i:03d}", "V": i}) for i in range(40)]
    ops += [("update", {"PartitionKey": "p", "RowKey": f"old{i:03d}", "W": i}, {"mode": UpdateMode.MERGE})
            for i in range(20)]
    ops += [("upsert", {"PartitionKey": "p", "RowKey": f"old{i:03d}", "R": i}, {"mode": UpdateMode.REPLACE})
            for i in range(20, 30)]
    ops += [("delete", {"PartitionKey": "p", "RowKey": f"old{i:03d}"}) for i in range(30, 50)]
    ops += [("upsert", {"PartitionKey": "p", "RowKey": f"ups{i:03d}"}, {"mode": UpdateMode.MERGE})
            for i in range(10)]
    assert len(ops) == 100
    results = table.submit_transaction(ops)
    assert len(results) == 100
    rows = {e["RowKey"]: e for e in table.list_entities()}
    assert len(rows) == 40 + 30 + 10
    assert rows["old005"]["V"] == 5 and rows["old005"]["W"] == 5
    assert "V" not in rows["old025"] and rows["old025"]["R"] == 25
    assert "old040" not in rows and rows["new039"]["V"] == 39


def test_failing_batch_is_rolled_back_and_names_the_index(table):
    table.create_entity({"PartitionKey": "p", "RowKey": "exists", "V": "original"})
    ops = [("create", {"PartitionKey": "p", "RowKey": "a"}),
           ("upsert", {"PartitionKey": "p", "RowKey": "b"}),
           ("create", {"PartitionKey": "p", "RowKey": "exists", "V": "dup"}),
           ("create", {"PartitionKey": "p", "RowKey": "c"})]
    with pytest.raises(TableTransactionError) as exc:
        table.submit_transaction(ops)
    assert exc.value.error_code == "EntityAlreadyExists"
    assert exc.value.index == 2
    assert exc.value.message.startswith("2:"), exc.value.message
    # Nothing of the batch is left: a and b were rolled back, the existing entity untouched.
    assert [(e["RowKey"], e.get("V")) for e in table.list_entities()] == [("exists", "original")]


def test_batch_raw_failure_shape(table_endpoint, table_url, table):
    """TestBatchError: 202 Accepted whose changeset holds one 409 response with "2:..." in the message."""
    table.create_entity({"PartitionKey": "p", "RowKey": "1"})
    resp = th.submit_batch(table_endpoint, table_url, [{"PartitionKey": "p", "RowKey": "0"},
                                                        {"PartitionKey": "p", "RowKey": "x"},
                                                        {"PartitionKey": "p", "RowKey": "1"}])
    assert resp.status_code == 202, resp.content[:300]
    assert resp.headers["Content-Type"].startswith("multipart/mixed; boundary=batchresponse_")
    status, code, message = th.batch_outcome(resp)
    assert (status, code) == (409, "EntityAlreadyExists")
    assert message.startswith("2:")
    assert len(list(table.list_entities())) == 1


def test_batch_duplicate_row_is_invalid_duplicate_row(table_endpoint, table_url, table):
    """TestBatchErrorHandleResponse: the same row twice is 400 InvalidDuplicateRow naming the second one."""
    resp = th.submit_batch(table_endpoint, table_url, [{"PartitionKey": "p", "RowKey": str(i)} for i in (0, 1, 2, 1)])
    status, code, message = th.batch_outcome(resp)
    assert (status, code) == (400, "InvalidDuplicateRow"), (status, code, message)
    assert message.startswith("3:")
    assert list(table.list_entities()) == []


@pytest.mark.azurite_gap("Azurite commits a batch that spans two partitions")
def test_batch_across_two_partitions(table_endpoint, table_url, table):
    resp = th.submit_batch(table_endpoint, table_url, [{"PartitionKey": "p1", "RowKey": "a"},
                                                        {"PartitionKey": "p2", "RowKey": "b"}])
    status, code, _ = th.batch_outcome(resp)
    assert (status, code) == (400, "CommandsInBatchActOnDifferentPartitions"), (status, code)
    assert list(table.list_entities()) == []


def test_batch_over_100_operations(table_endpoint, table_url, table):
    """"The batch request operation exceeds the maximum 100 changes per change set": 400 InvalidInput."""
    resp = th.submit_batch(table_endpoint, table_url, [{"PartitionKey": "p", "RowKey": f"{i:03d}"} for i in range(101)])
    status, code, _ = th.batch_outcome(resp)
    assert (status, code) == (400, "InvalidInput"), (status, code)
    assert list(table.list_entities()) == []
