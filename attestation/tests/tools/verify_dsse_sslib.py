#!/usr/bin/env python3
# Provenance: copied unchanged (apart from this line) from ../shared/tools/verify_dsse_sslib.py (OURS, cavra interop tools), 2026-11-23.
"""Verify a DSSE envelope (bare, or inside a Sigstore bundle) with securesystemslib,
then validate the payload as an in-toto Statement v1 with in-toto-attestation.
Usage: verify_dsse_sslib.py ENVELOPE_OR_BUNDLE.json (PUBKEY.pem | --from-bundle-cert) [SCHEME]
Gotchas handled: Envelope.from_dict() mutates its input and needs a 'keyid' in
every signature; Envelope.verify() only tries keys whose keyid == signature keyid
(keyid is not covered by the DSSE signature, so we align it to the key)."""
import base64, copy, json, sys
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.signer import SSlibKey
from google.protobuf import json_format
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

doc = json.load(open(sys.argv[1]))
env_dict = copy.deepcopy(doc.get("dsseEnvelope", doc))  # Sigstore bundle or bare envelope
if sys.argv[2] == "--from-bundle-cert":   # keyless bundle: take the Fulcio leaf's key (chain NOT checked)
    vm = doc["verificationMaterial"]
    raw = vm["certificate"]["rawBytes"] if "certificate" in vm else vm["x509CertificateChain"]["certificates"][0]["rawBytes"]
    pub = x509.load_der_x509_certificate(base64.b64decode(raw)).public_key()
else:
    pub = load_pem_public_key(open(sys.argv[2], "rb").read())
scheme = sys.argv[3] if len(sys.argv) > 3 else None   # e.g. rsa-pkcs1v15-sha256
key = SSlibKey.from_crypto(pub, scheme=scheme)
for s in env_dict["signatures"]:
    s["keyid"] = key.keyid
envelope = Envelope.from_dict(env_dict)
print("sslib key:", key.keytype, key.scheme)
envelope.verify([key], threshold=1)   # raises securesystemslib.exceptions.VerificationError
print("DSSE signature OK")
assert envelope.payload_type == "application/vnd.in-toto+json", envelope.payload_type
st = Statement.copy_from_pb(json_format.Parse(envelope.payload, statement_pb2.Statement()))
st.validate()
print("in-toto Statement v1 valid; predicateType =", st.pb.predicate_type, "subjects =", [s.name for s in st.pb.subject])
