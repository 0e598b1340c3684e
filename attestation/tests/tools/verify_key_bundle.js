// Provenance: copied unchanged (apart from this line) from ../shared/tools/verify_key_bundle.js (OURS, cavra interop tools), 2026-11-23.
// Verify a Sigstore bundle signed with a plain public key (no cert, no tlog, no TSA)
// fully offline using @sigstore/verify.
// Usage: node verify_key_bundle.js BUNDLE.json PUBKEY.pem [ARTIFACT] [--expect-fail]
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { TrustedRoot } = require('@sigstore/protobuf-specs');

const [bundlePath, keyPath, artifactPath] = process.argv.slice(2).filter(a => !a.startsWith('--'));
const expectFail = process.argv.includes('--expect-fail');
const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
const keyObj = crypto.createPublicKey(fs.readFileSync(keyPath));
const spki = keyObj.export({ type: 'spki', format: 'der' });
// Empty trusted root: no CAs, no tlogs, no ctlogs, no TSAs.
const emptyRoot = TrustedRoot.fromJSON({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
});
// Key finder: accept whatever hint the bundle carries, return the supplied key.
const keyFinder = (hint) => ({ publicKey: crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' }), validFor: () => true });
const tm = toTrustMaterial(emptyRoot, keyFinder);
const verifier = new Verifier(tm, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
try {
  const artifact = artifactPath ? fs.readFileSync(artifactPath) : undefined;
  const entity = toSignedEntity(bundle, artifact);
  verifier.verify(entity);
  console.log(`${expectFail ? 'UNEXPECTED PASS' : 'OK'}  ${bundlePath} keytype=${keyObj.asymmetricKeyType}${keyObj.asymmetricKeyDetails?.namedCurve ? '/' + keyObj.asymmetricKeyDetails.namedCurve : ''}`);
  process.exit(expectFail ? 1 : 0);
} catch (e) {
  console.log(`${expectFail ? 'OK (failed as expected)' : 'FAIL'}  ${bundlePath}: ${e.code || ''} ${e.message}`);
  process.exit(expectFail ? 0 : 1);
}
