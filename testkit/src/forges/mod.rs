//! Local mocks of the forges' REST APIs (GitHub, GitLab, Azure DevOps), shared by the forge
//! crate's tests and the CLI's end-to-end tests. Each checks every request against the forge's
//! published (or documented) request shape, keeps what was posted so updates are real, and can
//! be scripted to fail (401, 403, rate limits, 404, 409, 5xx). Fixtures: `testkit/fixtures/`.

pub mod azure;
pub mod github;
pub mod gitlab;
