from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from sharing.audit import audit_record, audit_verify
from sharing.models import AuditAction, AuditEntry
from tests.conftest import PASSWORD
from tests.world import World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def test_sign_ins_and_failures_are_recorded_without_the_password(world: World) -> None:
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post(reverse("login"), {"username": "b_liaison", "password": "wrong guess"})
    client.post(reverse("login"), {"username": "b_liaison", "password": PASSWORD})
    client.post(reverse("logout"))

    failed, login, logout = AuditEntry.objects.order_by("-seq")[:3][::-1]
    assert (failed.action, failed.actor_name, failed.ip_address) == (
        "login_failed",
        "b_liaison",
        "203.0.113.7",
    )
    assert (login.action, login.actor, login.agency_code) == (
        "login",
        world.users["b_liaison"],
        "B",
    )
    assert logout.action == "logout"
    assert not AuditEntry.objects.filter(detail__icontains="wrong guess").exists()
    assert "wrong guess" not in str(list(AuditEntry.objects.values()))


def test_note_reads_and_denied_views_are_recorded(world: World) -> None:
    about = world.note_about["a_green"].designation
    hidden = next(
        s.designation for s in world.specs if s.designation.name == "AMBER shared with none"
    )
    client = Client()
    client.force_login(world.users["b_liaison"])

    assert client.get(about.get_absolute_url()).status_code == 200
    assert client.get(hidden.get_absolute_url()).status_code == 404

    read = AuditEntry.objects.get(action="read", object_id=str(world.notes["a_green"].pk))
    assert (read.actor_name, read.agency_code, read.object_agency_code) == ("b_liaison", "B", "A")
    assert read.source == "web"
    denied = AuditEntry.objects.filter(action="denied").latest("seq")
    assert denied.actor_name == "b_liaison"
    assert denied.detail["object"] == str(hidden.pk)


def test_changes_are_recorded(world: World) -> None:
    designation = world.specs[0].designation
    entries = AuditEntry.objects.filter(action="change", object_id=str(designation.pk))
    assert entries.get().detail["action"] == "create"
    assert entries.get().actor_name == "a_publisher"


def test_entries_cannot_be_edited_or_deleted_through_the_app(world: World) -> None:
    entry = AuditEntry.objects.first()
    entry.detail = {"forged": True}
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_name="nobody")
    with pytest.raises(PermissionError):
        AuditEntry.objects.all().delete()
    admin = Client()
    admin.force_login(world.users["site_admin"])
    change = reverse("admin:sharing_auditentry_change", args=[entry.pk])
    response = admin.post(change, {"actor_name": "nobody"})
    assert response.status_code in {302, 403}
    assert AuditEntry.objects.get(pk=entry.pk).actor_name == entry.actor_name
    delete = reverse("admin:sharing_auditentry_delete", args=[entry.pk])
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_verify_audit_passes_on_an_untouched_log(world: World, capsys) -> None:
    count = AuditEntry.objects.count()
    assert count > 20

    call_command("verify_audit")

    assert f"Audit log intact: {count} entries verified." in capsys.readouterr().out


def _by_hand(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_verify_audit_names_an_entry_altered_by_hand(world: World) -> None:
    victim = AuditEntry.objects.order_by("seq")[10]
    table = AuditEntry._meta.db_table
    _by_hand(f"UPDATE {table} SET actor_name = %s WHERE seq = %s", ["someone else", victim.seq])  # noqa: S608

    with pytest.raises(CommandError, match=rf"audit entry #{victim.seq} is broken: its content"):
        call_command("verify_audit")


def test_verify_audit_names_where_a_row_was_removed(world: World) -> None:
    entries = list(AuditEntry.objects.order_by("seq")[5:7])
    table = AuditEntry._meta.db_table
    _by_hand(f"DELETE FROM {table} WHERE seq = %s", [entries[0].seq])  # noqa: S608

    checked, broken = audit_verify()

    assert broken is not None and broken.seq == entries[1].seq
    assert "does not link" in broken.reason
    assert checked == 5


def test_verify_audit_notices_the_newest_entries_removed(world: World) -> None:
    last = AuditEntry.objects.order_by("-seq").first()
    _by_hand(f"DELETE FROM {AuditEntry._meta.db_table} WHERE seq = %s", [last.seq])  # noqa: S608

    with pytest.raises(CommandError, match="newest entries were removed"):
        call_command("verify_audit")


def test_the_chain_continues_after_a_verified_append(world: World) -> None:
    before = AuditEntry.objects.order_by("-seq").first()
    entry = audit_record(AuditAction.READ, actor_name="probe")
    assert entry.prev_hash == before.hash
    assert audit_verify()[1] is None
