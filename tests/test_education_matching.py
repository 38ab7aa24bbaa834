"""Matching with the database: Alice's real (encrypted) intake picks her articles, the read is audited as the
system's, shares are recorded once per message and once per appointment page, the manage page shows them, Dr Chen
sees what was shared on Alice's page, and `match_articles` prints its table."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backend.api.permissions import FRONT_DESK, PRACTITIONER
from backend.models import AuditEntry
from education.models import Article, ArticleShare
from education.selectors import articles_for_appointment, articles_for_text, library_index
from education.services import DEMO_ARTICLES, article_shares_record, articles_import_files
from patients.services import intake_submit
from scheduling.manage_tokens import manage_token
from scheduling.services import appointment_book, appointment_cancel
from tests.conftest import local
from tests.factories import PatientFactory, StaffUserFactory
from tests.test_intake import REASON, answers

pytestmark = pytest.mark.django_db

SEED_SLUG = "how-stress-can-contribute-to-back-pain-and-how-to-combat-it"


@pytest.fixture
def library(db):
    articles_import_files([DEMO_ARTICLES])


@pytest.fixture
def alices_visit(library, dr_chen, follow_up, alice, monday_morning):
    """Alice's follow-up on Tuesday, with her intake: lower back and hips, stress 7, poor sleep."""
    visit = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    intake_submit(patient=visit.patient, appointment=visit, answers=answers(), consent_name="Alice Moreau")
    return visit


def share_by_email(visit) -> None:
    matches = articles_for_appointment(visit)
    article_shares_record(patient=visit.patient, appointment=visit, matches=matches, channel="email", message_id=7)


def test_it_picks_alices_articles_from_her_intake_and_audits_the_read(alices_visit):
    matches = articles_for_appointment(alices_visit)

    # Sciatica after a fall comes first; her stress (7) brings the stress and back pain post in too.
    assert [(match.article.slug, match.reason) for match in matches][:2] == [
        ("lower-back-pain", "matches: lower back"),
        (SEED_SLUG, "matches: lower back, stress"),
    ]
    assert len(matches) == 3
    assert all(REASON.split()[0] not in match.reason for match in matches)
    read = AuditEntry.objects.get(action="intake.read")
    assert (read.actor_kind, read.detail) == (AuditEntry.Actor.SYSTEM, "article matching")
    assert (read.patient_id, read.appointment_id) == (alices_visit.patient_id, alices_visit.pk)


def test_it_uses_the_patients_current_intake_unless_only_the_links_own_may_be_read(
    library, dr_chen, follow_up, alice, monday_morning
):
    visit = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)
    intake_submit(
        patient=visit.patient, answers=answers(reason="Migraines", pain_areas=["head"]), consent_name="Alice Moreau"
    )

    assert articles_for_appointment(visit)[0].article.slug == "headaches-and-migraine"
    assert "headaches-and-migraine" not in [
        match.article.slug for match in articles_for_appointment(visit, link_only=True)
    ]


def test_without_an_intake_the_service_alone_decides_and_nothing_is_read(
    library, dr_chen, follow_up, alice, monday_morning
):
    visit = appointment_book(service=follow_up, practitioner=dr_chen, start=local(2027, 3, 2, 10), patient=alice)

    assert articles_for_appointment(visit)[0].article.slug == "aftercare-after-your-treatment"
    assert not AuditEntry.objects.filter(action="intake.read").exists()


def test_it_never_offers_an_unpublished_article_and_rebuilds_its_index_when_the_library_changes(library):
    before = library_index()
    assert articles_for_text("migraine")[0].article.slug == "headaches-and-migraine"

    Article.objects.filter(slug="headaches-and-migraine").update(published=False)
    assert library_index() is before  # update() leaves updated_at alone: the cached index is kept ...
    Article.objects.get(slug="headaches-and-migraine").save()  # ... a save is what a change looks like

    assert library_index() is not before
    assert "headaches-and-migraine" not in [match.article.slug for match in articles_for_text("migraine")]


def test_a_resent_message_records_its_articles_once(alices_visit):
    matches = articles_for_appointment(alices_visit)

    first = article_shares_record(
        patient=alices_visit.patient, appointment=alices_visit, matches=matches, channel="email", message_id=41
    )
    again = article_shares_record(
        patient=alices_visit.patient, appointment=alices_visit, matches=matches, channel="email", message_id=41
    )
    another_message = article_shares_record(
        patient=alices_visit.patient, appointment=alices_visit, matches=matches[:1], channel="email", message_id=42
    )

    assert (first, again, another_message) == (3, 0, 1)
    shares = ArticleShare.objects.filter(message_id=41).order_by("rank")
    assert [(share.rank, share.article, share.reason) for share in shares] == [
        (rank, match.article, match.reason) for rank, match in enumerate(matches, start=1)
    ]


def test_it_refuses_an_unknown_channel(alices_visit):
    with pytest.raises(ValueError, match="unknown channel"):
        article_shares_record(patient=alices_visit.patient, appointment=alices_visit, matches=[], channel="sms")


def test_the_manage_page_shows_alices_articles_and_records_them_once(client, alices_visit):
    url = f"/manage/{manage_token(alices_visit)}/"

    first = client.get(url)
    client.get(url)

    page = first.content.decode()
    assert "Suggested reading" in page
    assert f'href="/learn/{SEED_SLUG}/"' in page
    assert "Matches: lower back, stress" in page
    assert REASON not in page
    shares = ArticleShare.objects.filter(appointment=alices_visit, channel="manage_page")
    assert shares.count() == 3


def test_a_cancelled_appointments_page_suggests_nothing(client, alices_visit):
    appointment_cancel(appointment=alices_visit, by_staff=True, reason="")

    page = client.get(f"/manage/{manage_token(alices_visit)}/").content.decode()

    assert "Suggested reading" not in page
    assert not ArticleShare.objects.exists()


def test_dr_chen_sees_what_was_shared_with_alice_and_why(client, alices_visit):
    chen = StaffUserFactory(username="mei@example.org", role=PRACTITIONER)
    alices_visit.practitioner.user = chen
    alices_visit.practitioner.save()
    matches = articles_for_appointment(alices_visit)
    article_shares_record(
        patient=alices_visit.patient, appointment=alices_visit, matches=matches, channel="email", message_id=7
    )
    client.force_login(chen)

    page = client.get(f"/desk/patients/{alices_visit.patient_id}/").content.decode()

    assert "Articles shared" in page
    assert "Lower back pain and sciatica: what acupuncture can and cannot do" in page
    assert "Email, 1 Mar 2027" in page
    assert "matches: lower back, stress" in page


def test_the_front_desk_sees_the_titles_but_not_the_reasons(client, alices_visit):
    matches = articles_for_appointment(alices_visit)
    article_shares_record(
        patient=alices_visit.patient, appointment=alices_visit, matches=matches, channel="email", message_id=7
    )
    client.force_login(StaffUserFactory(username="desk@example.org", role=FRONT_DESK))

    page = client.get(f"/desk/patients/{alices_visit.patient_id}/").content.decode()

    assert "Lower back pain and sciatica: what acupuncture can and cannot do" in page
    assert "matches:" not in page


def test_a_patient_with_nothing_shared_shows_none(client, library, monday_morning):
    patient = PatientFactory()
    client.force_login(StaffUserFactory(username="desk@example.org", role=FRONT_DESK))

    page = client.get(f"/desk/patients/{patient.pk}/").content.decode()

    assert "Articles shared" in page
    assert "None yet." in page


def test_match_articles_prints_ranked_slugs_with_scores_and_reasons(library):
    out = StringIO()

    call_command(
        "match_articles", "my back is killing me", "--areas", "lower_back", "--stress", "8", "--sleep", "fair",
        "--limit", "3", stdout=out,
    )  # fmt: skip

    lines = out.getvalue().splitlines()
    assert lines[0].split() == ["#", "article", "score", "reason"]
    assert lines[1].split()[:2] == ["1", SEED_SLUG]
    assert lines[1].endswith("matches: lower back, stress")
    assert len(lines) == 4
    assert float(lines[1].split()[2]) >= float(lines[2].split()[2])


def test_match_articles_refuses_an_unknown_area_or_stress_level(library):
    with pytest.raises(CommandError, match="unknown area knee"):
        call_command("match_articles", "sore", "--areas", "knee")
    with pytest.raises(CommandError, match="0 to 10"):
        call_command("match_articles", "sore", "--stress", "11")
