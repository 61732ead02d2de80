export {};
export * from './community/protocol/index.js';
