"""A resolver for tests of code that looks names up (webhook URLs): each
name answers the addresses the test gives, any other is unknown. Nothing
is sent to a DNS server; the network guard (tests/netguard.py) stays on."""

import socket


def patch_resolver(monkeypatch, answers: dict) -> dict:
    """``socket.getaddrinfo`` answers ``answers[name]`` (an address or a list
    of them); returns the dict, which the test may change."""

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        addresses = answers[host] if isinstance(answers[host], list) else [answers[host]]
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
                for ip in addresses]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers
