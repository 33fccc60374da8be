"""A certificate authority and a Kafka broker certificate, for a province that has no CA
of its own (and for the compose test):

    uv run python -m infra.tls secrets/kafka kafka.tinh.gov.vn [more names...]

writes ca.crt (every client trusts it), server.crt (named `kafka`, for the compose
network, and each name given) and server.key (unencrypted PKCS#8; readable, in a folder
only its owner may enter). A province with its own CA
issues server.crt/server.key from it instead; the file names are what
docker-compose.yml reads.
"""

from __future__ import annotations

import argparse
import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

DAYS = 825  # the longest server certificate lifetime clients commonly accept


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def broker_certificates(folder: Path, names: list[str], *, days: int = DAYS) -> None:
    """ca.crt, server.crt and server.key in `folder`, the server named `kafka` and `names`."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("HNTH Ops Kafka CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    every = list(dict.fromkeys(["kafka", *names]))
    server = (
        x509.CertificateBuilder()
        .subject_name(_name(every[0]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_alt_name(n) for n in every]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.crt").write_bytes(_pem(ca))
    (folder / "server.crt").write_bytes(_pem(server))
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_file = folder / "server.key"
    key_file.write_bytes(private)
    # a bind-mounted secret, read in the container by the broker's user (uid 1000): the
    # file is readable, the folder (no one else may enter it) keeps it private on the host
    key_file.chmod(0o644)
    folder.chmod(0o700)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("names", nargs="*", help="the broker's public host names or IPs")
    args = parser.parse_args()
    broker_certificates(args.folder, args.names)
    print(f"wrote {args.folder}/ca.crt, server.crt and server.key")


if __name__ == "__main__":
    main()
