"""Security headers are on every kind of response."""

import pytest


@pytest.mark.parametrize("path", ["/", "/c/test/report", "/api/v1/consultations", "/nowhere", "/static/css/site.css"])
def test_security_headers_everywhere(client, make_consultation, path):
    make_consultation()
    response = client.get(path)
    response.close()  # static files are streamed from an open file
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_no_inline_scripts_in_pages(client, make_consultation):
    make_consultation()
    for path in ("/", "/c/test", "/c/test/mine"):
        html = client.get(path).text
        assert "<script>" not in html and "onclick=" not in html.lower()


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    assert "max-age" in client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"]
