"""Search endpoints through the SDK: the query language subset, paging, and each resource's fields."""

from __future__ import annotations

import pytest
import stripe

from .conftest import monthly_price


def _reader(client: stripe.StripeClient, email: str, reader_id: str, card: str = "pm_card_visa") -> tuple[str, str]:
    cus = client.v1.customers.create(params={"email": email, "name": f"Reader {reader_id}",
                                             "metadata": {"reader_id": reader_id}})
    price = monthly_price(client, 1000 + int(reader_id))
    sub = client.v1.subscriptions.create(params={"customer": cus.id, "items": [{"price": price.id}],
                                                 "default_payment_method": card,
                                                 "metadata": {"reader_id": reader_id}})
    return cus.id, sub.id


def test_customer_queries(client: stripe.StripeClient) -> None:
    a, _ = _reader(client, "Ada@Example.com", "1")
    b, _ = _reader(client, "bob@example.org", "2")
    ids = lambda q: [c.id for c in client.v1.customers.search(params={"query": q}).data]  # noqa: E731
    assert ids("email:'ada@example.com'") == [a]  # exact, case-insensitive
    assert ids("email~'example'") == [b, a]  # newest first
    assert ids("metadata['reader_id']:'2'") == [b]
    assert ids("email~'example' AND -metadata['reader_id']:'2'") == [a]
    assert ids("email:'ada@example.com' OR name:'Reader 2'") == [b, a]
    assert ids("phone:null AND email:'nobody@example.com'") == []
    res = client.v1.customers.search(params={"query": "email~'example'", "limit": 1})
    assert (res.object, res.has_more, res.url) == ("search_result", True, "/v1/customers/search")
    assert "total_count" not in res.to_dict()
    nxt = client.v1.customers.search(params={"query": "email~'example'", "limit": 1, "page": res.next_page})
    assert [c.id for c in nxt.data] == [a] and nxt.has_more is False and nxt.next_page is None
    counted = client.v1.customers.search(params={"query": "email~'example'", "expand": ["total_count"]})
    assert counted.total_count == 2
    client.v1.customers.delete(b)
    assert ids("email~'example'") == [a]


@pytest.mark.parametrize("query", ["email:", "emial:'x'", "email:'a' AND name:'b' OR phone:'c'", "email~'ab'"])
def test_bad_queries_are_refused(client: stripe.StripeClient, query: str) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.search(params={"query": query})
    assert (exc.value.http_status, exc.value.param) == (400, "query")


def test_subscriptions_invoices_charges(client: stripe.StripeClient) -> None:
    a, sub_a = _reader(client, "a@example.com", "1")
    b, sub_b = _reader(client, "b@example.com", "2", card="pm_card_chargeDeclined")
    subs = client.v1.subscriptions.search(params={"query": "status:'incomplete'"}).data
    assert [s.id for s in subs] == [sub_b]
    assert [s.id for s in client.v1.subscriptions.search(
        params={"query": "metadata['reader_id']:'1'"}).data] == [sub_a]
    invs = client.v1.invoices.search(params={"query": f"subscription:'{sub_a}' AND status:'paid'"}).data
    assert len(invs) == 1 and invs[0].customer == a
    assert [i.customer for i in client.v1.invoices.search(params={"query": "total>=1002"}).data] == [b]
    ok = client.v1.charges.search(params={"query": f"customer:'{a}' AND status:'succeeded'"}).data
    assert len(ok) == 1 and ok[0].amount == 1001
    failed = client.v1.charges.search(params={"query": "status:'failed' AND payment_method_details.card.last4:'0002'"})
    assert [c.customer for c in failed.data] == [b]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.search(params={"query": "email:'a@example.com'"})
