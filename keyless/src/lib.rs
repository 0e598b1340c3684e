//! Keyless signing: an OIDC identity token from the CI runner, a Fulcio certificate for an
//! ephemeral key, and a Rekor entry, assembled into a Sigstore bundle.
