from django.urls import path

from backend.staff import views

app_name = "staff"
urlpatterns = [
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("code/", views.two_factor_verify, name="two_factor_verify"),
    path("two-factor/", views.two_factor_setup, name="two_factor"),
    path("two-factor/turn-off/", views.two_factor_turn_off, name="two_factor_turn_off"),
]
