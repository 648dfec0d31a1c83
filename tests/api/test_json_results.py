"""A function may return any JSON value: it comes back from every answer unchanged."""

import orjson
import pytest

VALUES = [7, -2.5, 18446744073709551615, 1e300, "text", "5", "", "ünïcødé 𝄞", True, False,
          None, [], {}, [1, None, {"a": [True, "é"]}]]


def _same(read, expected) -> bool:
    return (orjson.dumps(read, option=orjson.OPT_SORT_KEYS)
            == orjson.dumps(expected, option=orjson.OPT_SORT_KEYS))


@pytest.mark.parametrize("value", VALUES, ids=[orjson.dumps(v).decode() for v in VALUES])
def test_a_bare_json_result_round_trips_through_an_agent(api, value):
    response = api.execute("echo-agent.same", {"value": value})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "succeeded" and _same(body["result"], value)
    status = api.get(f"/api/v1/executions/{body['execution_id']}")
    listed = api.get(f"/api/v1/executions?run_id={body['run_id']}")
    assert (status.status_code, listed.status_code) == (200, 200)
    assert _same(status.json()["result"], value)
    assert _same(status.json()["input"], {"value": value})
    assert _same(listed.json()["executions"][0]["result"], value)
