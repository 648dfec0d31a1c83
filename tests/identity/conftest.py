"""Identity fixtures: the three-execution chain and a fresh audit bundle of it."""

import pytest

from tests.identity.chain import Chain


@pytest.fixture(scope="session")
def chain() -> Chain:
    return Chain()


@pytest.fixture
def bundle(chain: Chain) -> dict:
    return chain.bundle()
