export * from './cosign-key.ts';
export * from './encrypted.ts';
export { readPassphrase } from './passphrase.ts';
