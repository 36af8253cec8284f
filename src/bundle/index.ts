export * from './bundle.ts';
export * from './trusted-root.ts';
export * from './signing-config.ts';
export { formatTimestamp } from './json.ts';
