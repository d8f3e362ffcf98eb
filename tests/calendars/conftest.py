"""Calendar test helpers: bearer tokens and a logged-in admin client."""

import pytest

from portal.accounts.commands import create_token


@pytest.fixture
def bearer(app, make_user):
    """Return a function giving Authorization headers for a new user of *role*."""

    def build(role, organization=None):
        user = make_user(role, organization)
        with app.app_context():
            token = create_token(user.username)
        return {"Authorization": f"Bearer {token}"}

    return build
