import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english():
    """Service tests match the English messages; the admin tests see Chinese."""
    with translation.override("en"):
        yield
