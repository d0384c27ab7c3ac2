import pytest
from profiles import Profiles, users_thrift


@pytest.fixture
def profiles(thriftbox):
    """The code under test, talking to thriftbox's mock of Users through its own thriftpy2 classes."""
    return Profiles(thriftbox.client("Users", service=users_thrift.Users))
