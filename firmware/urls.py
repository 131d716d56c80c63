from django.urls import path

from firmware import download_views, job_views, token_views, views

app_name = "firmware"
urlpatterns = [
    path("", views.home, name="home"),
    path("find/", views.find_firmware, name="find_firmware"),
    path("orgs/<slug:slug>/", views.org_detail, name="org_detail"),
    path("orgs/<slug:slug>/firmware/", views.firmware_list, name="firmware_list"),
    path(
        "orgs/<slug:slug>/firmware/<str:firmware_id>/",
        views.firmware_detail,
        name="firmware_detail",
    ),
    path(
        "orgs/<slug:slug>/firmware/<str:firmware_id>/file/",
        download_views.firmware_download,
        name="firmware_download",
    ),
    path(
        "orgs/<slug:slug>/firmware/<str:firmware_id>/devices/",
        job_views.firmware_devices,
        name="firmware_devices",
    ),
    path("orgs/<slug:slug>/jobs/", job_views.job_list, name="job_list"),
    path("orgs/<slug:slug>/jobs/<str:job_id>/", job_views.job_detail, name="job_detail"),
    path("tz/", views.time_zone, name="time_zone"),
    path("tokens/", token_views.api_tokens, name="api_tokens"),
    path("tokens/<int:token_id>/revoke/", token_views.revoke_api_token, name="revoke_api_token"),
    path("healthz", views.healthz, name="healthz"),
]
