export * from './verifier.ts';
export * from './policy.ts';
export { verifyEntryBody, verifySet, verifyInclusionProof, findLog } from './tlog.ts';
export { inspectBundle } from './inspect.ts';
