from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from firmware.metrics_endpoint import metrics
from firmware.views import favicon

# Password reset by e-mail is left out: fwportal sends no mail; admins reset passwords.
accounts = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

handler500 = "firmware.error_pages.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("firmware.api.urls")),
    path("accounts/", include(accounts)),
    # Anyone may choose a language, the login page's visitors first; `next` stays same-site.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("favicon.ico", favicon, name="favicon"),
    path("metrics", metrics, name="metrics"),
    path("", include("firmware.urls")),
]
