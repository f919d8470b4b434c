"""The peer a user would otherwise pick: fastapi-client-cert-auth (PyPI) on uvicorn,
configured like certgate in the benchmark: URL-encoded PEM in X-SSL-Client-Cert and a
SHA-256 allowlist. Run: ALLOWED_SHA256=<hex;hex> uvicorn app:app --port PORT
"""
import os

from cryptography.hazmat.primitives import hashes
from fastapi import Depends, FastAPI, HTTPException
from fastapi_client_cert_auth import get_certificate_from_header_dependency

ALLOWED = {p.strip().lower() for p in os.environ.get("ALLOWED_SHA256", "").split(";") if p.strip()}
app = FastAPI()
client_certificate = get_certificate_from_header_dependency("X-SSL-Client-Cert")


@app.get("/api/values")
async def values(cert=Depends(client_certificate)):
    if cert.fingerprint(hashes.SHA256()).hex() not in ALLOWED:
        raise HTTPException(403, detail="certificate_not_allowed")
    return ["value1", "value2"]
