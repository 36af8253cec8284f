export * from './base64.ts';
export * from './hex.ts';
export * from './pem.ts';
export * from './canonical-json.ts';
