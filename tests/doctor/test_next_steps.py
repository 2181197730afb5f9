"""What scripts/serve prints once ready: three lines, the dashboard's address first."""

from __future__ import annotations

from endrpi_project.doctor.listening import NextSteps, next_steps_lines

STEPS = NextSteps(python="./.venv/bin/python", install_service="./scripts/install-service", admin_exists=False)


def test_it_names_the_lan_address_first_and_this_machines_in_brackets():
    lines = next_steps_lines(["http://127.0.0.1:5000/", "http://192.168.1.5:5000/"], STEPS)
    assert lines == [
        "Endrpi is ready. Open the dashboard: http://192.168.1.5:5000/ (on this machine: http://127.0.0.1:5000/)",
        "Create the admin user for http://192.168.1.5:5000/admin/ (pin labels, locks): "
        "./.venv/bin/python manage.py createsuperuser",
        "Start it at boot as a service: sudo ./scripts/install-service   (Ctrl-C stops this one)",
    ]


def test_a_server_on_loopback_only_names_loopback():
    lines = next_steps_lines(["http://127.0.0.1:8000/"], STEPS)
    assert lines[0] == "Endrpi is ready. Open the dashboard: http://127.0.0.1:8000/"
    assert "http://127.0.0.1:8000/admin/" in lines[1]


def test_once_an_admin_user_exists_it_points_at_the_settings_instead():
    lines = next_steps_lines(["https://[::1]:8443/", "https://[fd00::5]:8443/"], NextSteps("py", "is", True))
    assert (
        lines[0]
        == "Endrpi is ready. Open the dashboard: https://[fd00::5]:8443/ (on this machine: https://[::1]:8443/)"
    )
    assert lines[1] == "Settings (pin labels, locks): https://[fd00::5]:8443/admin/"
    assert len(lines) == 3
