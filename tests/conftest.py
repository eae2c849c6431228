import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--board", default=None, help="also run the driver contracts on this board's hardware")
