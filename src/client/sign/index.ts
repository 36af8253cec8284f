export * from './signer.ts';
export * from './sign.ts';
export * from './services.ts';
export * from './setup.ts';
export * from './predicate.ts';
export { challengeOf } from './token.ts';
export { checkNewBundle } from './check.ts';
