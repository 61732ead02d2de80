/**
 * Local fakes of the cloud providers' APIs and valid protocol messages, for tests in other projects
 * (`@anneal/providers/testing`, TypeScript source: test runners only, never part of the build).
 */
export { ComputeFake, googleError, zoneLink, type FakeInstance, type RecordedRequest } from '../gcp/testing/compute-fake.js';
export { RunpodFake, type RecordedRunpodRequest } from '../runpod/testing/runpod-fake.js';
export { assignmentFixture, heartbeatFixture, urlFreeAssignmentFixture } from '../community/protocol/testing/protocol-fixtures.js';
