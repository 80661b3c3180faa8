"""Node identity: keys made by `node init`, descriptors exchanged with `node export` and
`node add-partner`, and signed requests between nodes (altered, stale, replayed or forged ones
refused)."""

from __future__ import annotations

import io
import json
import stat

import pytest
from django.core.management import CommandError, call_command

from agencies.models import Node
from sharing.models import AuditEntry
from sharing.node_auth import NodeAuthError, SignedRequest, node_authenticate, signed_headers
from sharing.node_keys import generate_node_keys, load_node_keys

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("node", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def local(settings) -> Node:
    run("init")
    return Node.objects.get(is_local=True)


@pytest.fixture
def partner_keys():
    return generate_node_keys()


@pytest.fixture
def partner(local: Node, partner_keys, tmp_path) -> Node:
    descriptor = {
        "node_id": "eu",
        "name": "EU node",
        "base_url": "http://127.0.0.1:8001",
        "signing_public_key": partner_keys.signing_public,
        "exchange_public_key": partner_keys.exchange_public,
    }
    path = tmp_path / "eu.json"
    path.write_text(json.dumps(descriptor))
    run("add-partner", str(path))
    return Node.objects.get(node_id="eu")


def test_init_makes_private_keys_readable_by_the_owner_only(settings, local: Node) -> None:
    mode = stat.S_IMODE(settings.NODE_KEY_FILE.stat().st_mode)
    assert mode == 0o600
    keys = load_node_keys()
    assert local.signing_public_key == keys.signing_public
    assert local.exchange_public_key == keys.exchange_public
    exported = json.loads(run("export"))
    assert exported["signing_public_key"] == keys.signing_public
    assert "private" not in json.dumps(exported)
    with pytest.raises(CommandError, match="already has keys"):
        run("init")
    assert load_node_keys().signing_public == keys.signing_public  # not replaced


def test_export_before_init_is_a_clear_error(db) -> None:
    with pytest.raises(CommandError, match="node init"):
        run("export")


def test_a_partner_is_registered_and_its_keys_do_not_change_silently(
    partner: Node, tmp_path
) -> None:
    assert partner.base_url == "http://127.0.0.1:8001" and not partner.is_local
    assert AuditEntry.objects.filter(action="federation", detail__partner="eu").exists()
    other = generate_node_keys()
    changed = tmp_path / "eu2.json"
    changed.write_text(
        json.dumps(
            {
                "node_id": "eu",
                "name": "EU node",
                "base_url": "http://127.0.0.1:8001",
                "signing_public_key": other.signing_public,
                "exchange_public_key": other.exchange_public,
            }
        )
    )
    with pytest.raises(CommandError, match="other keys"):
        run("add-partner", str(changed))
    assert Node.objects.get(node_id="eu").signing_public_key == partner.signing_public_key
    run("add-partner", str(changed), "--replace-keys")
    assert Node.objects.get(node_id="eu").signing_public_key == other.signing_public


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "not a node descriptor"),
        ('{"node_id": "x"}', "lacks name"),
        (
            '{"node_id": "Bad Id", "name": "n", "base_url": "http://x.example", '
            '"signing_public_key": "", "exchange_public_key": ""}',
            "not a slug",
        ),
        (
            '{"node_id": "x", "name": "n", "base_url": "ftp://x.example", '
            '"signing_public_key": "", "exchange_public_key": ""}',
            "not an http",
        ),
        (
            '{"node_id": "x", "name": "n", "base_url": "http://x.example", '
            '"signing_public_key": "AAAA", "exchange_public_key": "AAAA"}',
            "must be 32 bytes",
        ),
    ],
)
def test_a_bad_descriptor_is_refused_and_writes_nothing(local, tmp_path, text, message) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(CommandError, match=message):
        run("add-partner", str(path))
    assert Node.objects.count() == 1


def test_the_local_node_cannot_be_registered_as_a_partner(local: Node, tmp_path) -> None:
    path = tmp_path / "me.json"
    path.write_text(run("export"))
    with pytest.raises(CommandError, match="is this node"):
        run("add-partner", str(path))


def request_from_partner(local, partner, keys, *, body=b'{"after": 0}', **overrides):
    path = "/sync/v1/feed?after=0"
    headers = signed_headers(
        method="POST",
        path=path,
        body=body,
        recipient=local,
        sender=partner.node_id,
        keys=keys,
        **overrides,
    )
    return SignedRequest(method="POST", path=path, headers=headers, body=body)


def test_a_signed_request_names_its_partner_once(local, partner, partner_keys) -> None:
    request = request_from_partner(local, partner, partner_keys)
    assert node_authenticate(request) == partner
    with pytest.raises(NodeAuthError, match="replayed"):
        node_authenticate(request)


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda r: SignedRequest(r.method, r.path, r.headers, b'{"after": 99}'), "body"),
        (
            lambda r: SignedRequest(r.method, "/sync/v1/feed?after=9", r.headers, r.body),
            "signature",
        ),
        (lambda r: SignedRequest("GET", r.path, r.headers, r.body), "signature"),
        (
            lambda r: SignedRequest(
                r.method, r.path, {**r.headers, "X-SX-Nonce": "another"}, r.body
            ),
            "signature",
        ),
        (
            lambda r: SignedRequest(
                r.method,
                r.path,
                {k: v for k, v in r.headers.items() if k != "X-SX-Signature"},
                r.body,
            ),
            "missing X-SX-Signature",
        ),
        (
            lambda r: SignedRequest(r.method, r.path, {**r.headers, "X-SX-Node": "nobody"}, r.body),
            "not a registered partner",
        ),
    ],
)
def test_altered_requests_are_refused(local, partner, partner_keys, tamper, message) -> None:
    with pytest.raises(NodeAuthError, match=message):
        node_authenticate(tamper(request_from_partner(local, partner, partner_keys)))


def test_a_request_outside_the_clock_window_is_refused(local, partner, partner_keys, settings):
    import time

    settings.NODE_CLOCK_SKEW_SECONDS = 60
    for skew in (-61, +61):
        request = request_from_partner(local, partner, partner_keys, at=int(time.time()) + skew)
        with pytest.raises(NodeAuthError, match="window"):
            node_authenticate(request)
    assert (
        node_authenticate(
            request_from_partner(local, partner, partner_keys, at=int(time.time()) - 50)
        )
        == partner
    )


def test_a_request_signed_by_another_key_or_for_another_node_is_refused(
    local, partner, partner_keys
) -> None:
    impostor = generate_node_keys()
    with pytest.raises(NodeAuthError, match="signature"):
        node_authenticate(request_from_partner(local, partner, impostor))
    elsewhere = Node(node_id="uk", name="UK", base_url="http://uk.example")
    body = b"{}"
    headers = signed_headers(
        method="POST", path="/x", body=body, recipient=elsewhere, sender="eu", keys=partner_keys
    )
    with pytest.raises(NodeAuthError, match="signature"):
        node_authenticate(SignedRequest("POST", "/x", headers, body))


def test_a_partners_agencies_are_known_here_and_cannot_be_taken_over(
    local: Node, partner_keys, tmp_path
) -> None:
    from agencies.models import Agency
    from agencies.services import agency_create

    agency_create(code="UNSC", name="UN Security Council", jurisdiction="UN", home_node=local)
    descriptor = {
        "node_id": "eu",
        "name": "EU node",
        "base_url": "http://127.0.0.1:8001",
        "signing_public_key": partner_keys.signing_public,
        "exchange_public_key": partner_keys.exchange_public,
        "agencies": [{"code": "EUCO", "name": "EU Council", "jurisdiction": "EU"}],
    }
    path = tmp_path / "eu.json"
    path.write_text(json.dumps(descriptor))
    run("add-partner", str(path))
    euco = Agency.objects.get(code="EUCO")
    assert euco.home_node.node_id == "eu" and euco.group.name == "agency:EUCO"
    assert "UNSC" in run("export")  # this node's own agencies go out in its descriptor

    descriptor["agencies"].append({"code": "UNSC", "name": "Mine now", "jurisdiction": "?"})
    path.write_text(json.dumps(descriptor))
    with pytest.raises(CommandError, match="already hosted on"):
        run("add-partner", str(path))
    assert Agency.objects.get(code="UNSC").home_node == local


def test_a_data_key_wrapped_for_this_node_opens_here_only(local: Node, partner: Node) -> None:
    import os as _os

    from sharing.node_keys import NodeKeyError, unwrap_from_node, wrap_for_node

    data_key = _os.urandom(32)
    wrapped = wrap_for_node(local, data_key, attachment_id="a1", version=1)
    assert unwrap_from_node(wrapped, attachment_id="a1", version=1) == data_key
    # Bound to the attachment and version; made for another node, it does not open here.
    with pytest.raises(NodeKeyError):
        unwrap_from_node(wrapped, attachment_id="a2", version=1)
    with pytest.raises(NodeKeyError):
        unwrap_from_node(
            wrap_for_node(partner, data_key, attachment_id="a1", version=1),
            attachment_id="a1",
            version=1,
        )


def test_a_site_admin_registers_a_partner_in_the_admin(local, partner_keys, admin_client) -> None:
    url = "/admin/agencies/node/add/"
    descriptor = {
        "node_id": "uk",
        "name": "UK node",
        "base_url": "http://127.0.0.1:8002",
        "signing_public_key": partner_keys.signing_public,
        "exchange_public_key": partner_keys.exchange_public,
        "agencies": [{"code": "OFSI", "name": "OFSI", "jurisdiction": "GB"}],
    }
    assert admin_client.get(url).status_code == 200
    not_json = admin_client.post(url, {"descriptor": "node uk please"})
    assert not_json.status_code == 200 and "not the JSON" in not_json.text
    done = admin_client.post(url, {"descriptor": json.dumps(descriptor)})
    assert done.status_code == 302
    uk = Node.objects.get(node_id="uk")
    assert uk.signing_public_key == partner_keys.signing_public
    assert uk.agencies.get().code == "OFSI"
    # Other keys for the same node: refused unless the operator says they changed.
    other = generate_node_keys()
    changed = {**descriptor, "signing_public_key": other.signing_public}
    refused = admin_client.post(url, {"descriptor": json.dumps(changed)})
    assert refused.status_code == 200
    assert Node.objects.get(node_id="uk").signing_public_key == partner_keys.signing_public
    admin_client.post(url, {"descriptor": json.dumps(changed), "replace_keys": "on"})
    assert Node.objects.get(node_id="uk").signing_public_key == other.signing_public
