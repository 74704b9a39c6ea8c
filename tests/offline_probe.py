"""Source a fresh-interpreter probe starts with: every outbound connection and name lookup
is recorded in ``attempts`` and refused. Tests that must show a first call fetches
nothing (Presidio's public-suffix list, the injection model) run their code after it."""

REFUSE_NETWORK = """
import socket
attempts = []
def refuse(kind):
    def call(*args, **kwargs):
        attempts.append(kind)
        raise OSError("offline test: " + kind)
    return call
socket.socket.connect = refuse("connect")
socket.socket.connect_ex = refuse("connect_ex")
socket.getaddrinfo = refuse("getaddrinfo")
socket.create_connection = refuse("create_connection")
"""
