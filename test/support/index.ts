export { createTestDatabase, postgresServerUrl, type TestDatabase } from './postgres.js';
export { natsTestUrl, uniquePrefix } from './nats.js';
export { startTestS3, type TestS3 } from './s3.js';
export { expectEventually } from './eventually.js';
export { freePort } from './ports.js';
export { CHROMIUM_ARGS, ensureChromium, launchTestBrowser, saveScreenshot, type TestBrowser } from './browser.js';
export { ApiClient, exitOf, providerAccount, startStack, supportChats, topUp, uploadDataset, type ManagedAgent, type Stack } from './stack.js';
