import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--board", default=None, help="also run the driver contracts on this board's hardware")


@pytest.fixture
def board(request: pytest.FixtureRequest) -> str | None:
    return request.config.getoption("--board")
