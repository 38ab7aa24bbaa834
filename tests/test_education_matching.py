"""Matching with the database: Alice's real (encrypted) intake picks her articles, the read is audited (as the
system's for an email, as the link holder's on the manage page), shares are recorded once per message and once per
appointment page, the manage page shows them, Dr Chen sees what was shared on Alice's page and the front desk does
not, the matcher's index follows every change of the library, and `match_articles` prints its table."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from backend.api.permissions import FRONT_DESK, MANAGER, PRACTITIONER
from backend.models import AuditEntry
from education.models import Article, ArticleShare, Topic
from education.selectors import articles_for_appointment, articles_for_text, articles_shared_with, library_index
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


def test_it_never_offers_an_unpublished_article_even_one_withdrawn_by_update(library):
    assert articles_for_text("migraine")[0].article.slug == "headaches-and-migraine"

    Article.objects.filter(slug="headaches-and-migraine").update(published=False)  # no save(), no new updated_at

    assert "headaches-and-migraine" not in [match.article.slug for match in articles_for_text("migraine")]


def test_an_edit_saved_with_a_clock_behind_the_last_one_is_still_seen(library):
    newest = Article.objects.latest("updated_at")
    library_index()
    skewed = newest.updated_at - timedelta(minutes=5)  # another web server's clock, five minutes slow

    Article.objects.filter(slug="cupping-what-it-is").update(title="Cupping, explained", updated_at=skewed)

    assert library_index().articles["cupping-what-it-is"].title == "Cupping, explained"


def test_a_topic_taken_off_an_article_or_deleted_changes_what_is_offered(library):
    cupping = Article.objects.get(slug="cupping-what-it-is")
    assert "cupping-what-it-is" in [match.article.slug for match in articles_for_text("cupping marks")]

    cupping.topics.remove(Topic.objects.get(slug="cupping"))  # an m2m change: the article itself is not saved
    assert "cupping-what-it-is" not in [match.article.slug for match in articles_for_text("cupping marks")]

    assert articles_for_text("bloated stomach")[0].article.slug == "digestive-health"
    Topic.objects.filter(slug="digestion").delete()
    assert "digestive-health" not in [match.article.slug for match in articles_for_text("bloated stomach")]


def test_a_match_on_an_unchanged_library_costs_one_query(library, django_assert_num_queries):
    library_index()

    with django_assert_num_queries(1):
        articles_for_text("my lower back", ["lower_back"], 8, "poor", "initial")


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


def test_it_counts_only_the_rows_it_inserted_when_another_worker_got_there_first(alices_visit, monkeypatch):
    import education.services

    matches = articles_for_appointment(alices_visit)
    record = {"patient": alices_visit.patient, "appointment": alices_visit, "matches": matches, "channel": "email"}
    article_shares_record(**record, message_id=41)
    monkeypatch.setattr(education.services, "_already_shared", lambda *args: set())  # it looked before they wrote

    assert article_shares_record(**record, message_id=41) == 0
    assert ArticleShare.objects.filter(message_id=41).count() == 3


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


def test_the_manage_page_reads_the_intake_as_the_link_holder(client, alices_visit):
    client.get(f"/manage/{manage_token(alices_visit)}/")

    read = AuditEntry.objects.get(action="intake.read")
    assert (read.actor_kind, read.actor, read.detail) == (AuditEntry.Actor.PATIENT_LINK, None, "article matching")
    assert read.client  # the keyed hash of the address the link was opened from
    assert read.appointment_id == alices_visit.pk


def test_a_head_request_reads_nothing_and_records_nothing(client, alices_visit):
    response = client.head(f"/manage/{manage_token(alices_visit)}/")

    assert response.status_code == 200
    assert not AuditEntry.objects.filter(action="intake.read").exists()
    assert not ArticleShare.objects.exists()


def test_a_prefetched_page_shows_the_articles_but_records_none_as_shown(client, alices_visit):
    page = client.get(f"/manage/{manage_token(alices_visit)}/", headers={"Sec-Purpose": "prefetch"}).content.decode()

    assert "Suggested reading" in page
    assert not ArticleShare.objects.exists()


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


def test_the_front_desk_sees_nothing_of_what_was_shared(client, alices_visit):
    share_by_email(alices_visit)
    desk = StaffUserFactory(username="desk@example.org", role=FRONT_DESK)
    client.force_login(desk)

    page = client.get(f"/desk/patients/{alices_visit.patient_id}/").content.decode()

    assert articles_shared_with(alices_visit.patient, desk) is None  # the selector decides, not the template
    assert "Articles shared" not in page
    assert "Lower back pain and sciatica" not in page
    assert "matches:" not in page


def test_a_practitioner_who_does_not_treat_the_patient_sees_nothing_shared(alices_visit):
    share_by_email(alices_visit)
    stranger = StaffUserFactory(username="other@example.org", role=PRACTITIONER)
    manager = StaffUserFactory(username="owner@example.org", role=MANAGER)

    assert articles_shared_with(alices_visit.patient, stranger) is None
    assert len(articles_shared_with(alices_visit.patient, manager)) == 3


def test_a_patient_with_nothing_shared_shows_none(client, library, monday_morning):
    patient = PatientFactory()
    client.force_login(StaffUserFactory(username="owner@example.org", role=MANAGER))

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
