from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("staff/", include("backend.staff.urls")),
    path("api/v1/", include("scheduling.urls")),
    path("api/v1/", include("patients.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("desk/", include("scheduling.desk_urls")),
    path("learn/", include("education.urls")),
    path("messages/", include("notifications.urls")),
    path("", include("scheduling.booking_urls")),
]

handler404 = "backend.api.errors.not_found"
handler500 = "backend.api.errors.server_error"
