"""Registration, heartbeats with hysteresis, shutdown notices and listing."""

import time
import uuid

from tests.conftest import AUTH


def _register(api, node_id, reasoners=("plan",), skills=()):
    return api.post("/api/v1/nodes/register", json={
        "id": node_id, "version": "2.0.0",
        "reasoners": [{"id": r, "input_schema": {"type": "object"}} for r in reasoners],
        "skills": [{"id": s, "input_schema": {"type": "object"}} for s in skills],
    })


def test_registration_answers_201_with_the_queue_and_broker(api, stack):
    node_id = f"manual-{uuid.uuid4().hex[:6]}"

    response = _register(api, node_id)

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True and body["node_id"] == node_id
    assert body["queue"] == f"agent.{node_id}"
    assert body["broker_url"] == stack.env["REDIS_URL"]
    node = api.get(f"/api/v1/nodes/{node_id}").json()
    assert node["version"] == "2.0.0" and node["health_status"] == "active"
    assert [r["id"] for r in node["reasoners"]] == ["plan"]


def test_reregistration_replaces_the_functions(api):
    node_id = f"manual-{uuid.uuid4().hex[:6]}"
    _register(api, node_id, reasoners=("plan",))

    _register(api, node_id, reasoners=("plan", "review"), skills=("lookup",))

    node = api.get(f"/api/v1/nodes/{node_id}").json()
    assert [r["id"] for r in node["reasoners"]] == ["plan", "review"]
    assert [s["id"] for s in node["skills"]] == ["lookup"]


def test_registration_rejects_a_bad_id_and_bad_functions(api):
    bad_id = api.post("/api/v1/nodes/register", json={"id": "has space"})
    bad_list = api.post("/api/v1/nodes", json={"id": "ok-id", "reasoners": [{"x": 1}]})

    assert bad_id.status_code == 400 and bad_id.json()["error"] == "invalid_field"
    assert bad_list.status_code == 400 and bad_list.json()["details"] == {"field": "reasoners"}


def test_heartbeat_for_an_unknown_node_is_404(api):
    response = api.post("/api/v1/nodes/never-registered/heartbeat", json={"status": "ready"})

    assert response.status_code == 404
    assert response.json()["error"] == "agent_not_found"


def test_silent_node_goes_inactive_and_needs_two_heartbeats_to_return(api):
    node_id = f"manual-{uuid.uuid4().hex[:6]}"
    _register(api, node_id)
    health = lambda: api.get(f"/api/v1/nodes/{node_id}").json()["health_status"]  # noqa: E731

    time.sleep(3.3)  # the test stack declares a node inactive after 3 s of silence
    assert health() == "inactive"
    api.post(f"/api/v1/nodes/{node_id}/heartbeat", json={"status": "ready"})
    assert health() == "inactive"
    api.post(f"/api/v1/nodes/{node_id}/heartbeat", json={"status": "ready"})
    assert health() == "active"


def test_running_agents_stay_active_through_their_heartbeats(api):
    time.sleep(1.5)
    listed = api.get("/api/v1/nodes", params={"health_status": "active"}).json()

    ids = {node["id"] for node in listed["nodes"]}
    assert {"echo-agent", "sentiment-agent", "support-agent", "relay-agent"} <= ids
    assert listed["count"] == len(listed["nodes"])


def test_shutdown_notice_marks_the_node_offline(api):
    node_id = f"manual-{uuid.uuid4().hex[:6]}"
    _register(api, node_id)

    response = api.post(f"/api/v1/nodes/{node_id}/shutdown", json={"reason": "signal"})

    assert response.status_code == 202
    node = api.get(f"/api/v1/nodes/{node_id}").json()
    assert (node["lifecycle_status"], node["health_status"]) == ("offline", "inactive")


def test_unknown_node_lookup_is_404(api):
    response = api.get("/api/v1/nodes/ghost")

    assert response.status_code == 404 and response.json()["error"] == "agent_not_found"


def test_instances_registering_at_once_all_succeed_with_one_identity(api, stack):
    from concurrent.futures import ThreadPoolExecutor

    import requests

    node_id = f"burst-{uuid.uuid4().hex[:6]}"
    body = {"id": node_id, "reasoners": [{"id": "plan"}]}

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(
            lambda _: requests.post(f"{stack.url}/api/v1/nodes/register", json=body,
                                    headers=AUTH, timeout=30), range(8)))

    assert [a.status_code for a in answers] == [201] * 8
    dids = {a.json()["identity_package"]["agent_did"] for a in answers}
    assert len(dids) == 1
    assert api.get(f"/api/v1/nodes/{node_id}").json()["did"] in dids
