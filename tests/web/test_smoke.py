from tests.conftest import login


def test_login_and_home(client, world):
    response = login(client, "bureau_a")
    assert response.status_code == 302
    page = client.get("/")
    assert page.status_code == 200
    assert "甲县沙龙" in page.get_data(as_text=True)
