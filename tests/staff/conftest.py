from tests.readers.conftest import catalogue, member_client, rclient, stripe  # noqa: F401
