"""factory_boy factories for the clinic. Invented people, example.org addresses."""

from datetime import date, time
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from patients.models import Patient
from scheduling.models import Location, Practitioner, Room, Service, TimeOff, WorkingHours


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location
        django_get_or_create = ["slug"]

    slug = factory.Sequence(lambda n: f"location-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    timezone = "America/New_York"
    address = "12 Willow Street, Springfield"


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Room

    location = factory.SubFactory(LocationFactory)
    slug = factory.Sequence(lambda n: f"room-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    slug = factory.Sequence(lambda n: f"service-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    duration_minutes = 60
    buffer_minutes = 15
    price = Decimal("85.00")


class StaffUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}@example.org")
    email = factory.LazyAttribute(lambda o: o.username)
    is_staff = True

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        """StaffUserFactory(role="Front desk"): the user joins that role's group (created by a migration)."""
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])


class PractitionerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Practitioner
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"practitioner-{n}")
    name = factory.Sequence(lambda n: f"Practitioner {n}, L.Ac.")
    credentials = "L.Ac."

    @factory.post_generation
    def services(self, create, extracted, **kwargs):
        if create and extracted:
            self.services.set(extracted)


class WorkingHoursFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingHours

    practitioner = factory.SubFactory(PractitionerFactory)
    location = factory.SubFactory(LocationFactory)
    weekday = 0
    start_time = time(9)
    end_time = time(17)


class TimeOffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeOff

    practitioner = factory.SubFactory(PractitionerFactory)
    reason = "Away"


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    phone = "+1 555 010 0100"
    date_of_birth = date(1985, 4, 12)


def weekly_hours(practitioner, location, days, start: time, end: time) -> None:
    for weekday in days:
        WorkingHoursFactory(
            practitioner=practitioner, location=location, weekday=weekday, start_time=start, end_time=end
        )
