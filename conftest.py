"""Root conftest: names available to the doctests of binnet_core."""

import numpy as np
import pytest

import binnet_core


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace["np"] = np
    for name in binnet_core.__all__:
        doctest_namespace[name] = getattr(binnet_core, name)
