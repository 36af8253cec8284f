export * from './fetch.ts';
export * from './fulcio.ts';
export * from './rekor-v1.ts';
export * from './rekor-v2.ts';
export * from './tsa.ts';
export * from './trust.ts';
