from tests.factories import API, make_ticket


def test_customer_files_and_lists_a_ticket(client, people):
    ticket = make_ticket(client, people["individual"], priority="HIGH", tags="report, Error")
    assert ticket["status"] == "open"
    assert ticket["priority"] == "high"
    assert ticket["tags"] == ["report", "error"]
    response = client.get(f"{API}/tickets/my", headers=people["individual"].headers)
    assert [t["id"] for t in response.json()] == [ticket["id"]]
    assert response.headers["X-Total-Count"] == "1"
