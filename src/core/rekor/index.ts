export * from './types.ts';
export * from './ids.ts';
export * from './v1.ts';
export * from './v2.ts';
export * from './verifier.ts';
export * from './wire.ts';
export * from './describe.ts';
