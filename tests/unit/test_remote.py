"""Reaching a Ray cluster: an address nobody answers on is refused at once, with advice (Ray would retry)."""

import socket

import pytest

from emotion_core.remote import ClusterUnavailableError, check_reachable


def test_a_closed_port_is_refused_and_a_listening_one_passes():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        check_reachable(f"127.0.0.1:{server.getsockname()[1]}")
        port = server.getsockname()[1]
    with pytest.raises(ClusterUnavailableError, match="nothing answers there"):
        check_reachable(f"127.0.0.1:{port}")


@pytest.mark.parametrize("address", ["auto", "ray://head:10001"])
def test_addresses_ray_resolves_itself_are_left_to_it(address):
    check_reachable(address)
