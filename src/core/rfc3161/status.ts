import { type ErrorCode, type ErrorKind, SignetError } from '../errors.ts';
import {
  bitsSet,
  type Element,
  elementChildren,
  elementInteger,
  integer,
  namedBits,
  seq,
  TAG,
  utf8String,
} from '../encoding/der.ts';

/** PKIStatus values by number (RFC 3161 §2.4.2). */
const PKI_STATUS = [
  'granted',
  'grantedWithMods',
  'rejection',
  'waiting',
  'revocationWarning',
  'revocationNotification',
] as const;

/** PKIFailureInfo bits (RFC 3161 §2.4.2). */
export const FAIL_INFO = {
  badAlg: 0,
  badRequest: 2,
  badDataFormat: 5,
  timeNotAvailable: 14,
  unacceptedPolicy: 15,
  unacceptedExtension: 16,
  addInfoNotAvailable: 17,
  systemFailure: 25,
} as const;
export type FailInfo = keyof typeof FAIL_INFO;

/** A TimeStampResp's PKIStatusInfo, read. */
export interface PkiStatusInfo {
  status: number;
  /** The statusString's texts, joined with "; ". */
  statusString?: string;
  /** failInfo bits by name (`bit N` for a bit RFC 3161 does not name). */
  failInfo: string[];
}

/**
 * The TimeStampResp of a refusal (RFC 3161 §2.4.2): status rejection, the reason as text for a
 * person (statusString) and as the failInfo bit for a program; no token.
 */
export function encodeRejection(failInfo: FailInfo, statusString: string): Uint8Array {
  return seq(seq(integer(2), seq(utf8String(statusString)), namedBits([FAIL_INFO[failInfo]])));
}

/** Longest statusString quoted from a TSA's answer. */
const MAX_STATUS_TEXT = 500;

/** Reads a PKIStatusInfo ::= SEQUENCE { status, statusString PKIFreeText OPTIONAL, failInfo OPTIONAL }. */
export function parsePkiStatusInfo(el: Element, field: string): PkiStatusInfo {
  const si = elementChildren(el, field);
  const out: PkiStatusInfo = {
    status: Number(elementInteger(si[0], `${field}.status`)),
    failInfo: [],
  };
  let i = 1;
  if (si[i]?.tag === TAG.SEQUENCE) {
    const text = elementChildren(si[i++]!, `${field}.statusString`)
      .map((s) => new TextDecoder().decode(s.value))
      .join('; ');
    if (text)
      out.statusString =
        text.length > MAX_STATUS_TEXT ? `${text.slice(0, MAX_STATUS_TEXT)}...` : text;
  }
  if (si[i]?.tag === TAG.BIT_STRING) {
    const names = Object.entries(FAIL_INFO);
    out.failInfo = bitsSet(si[i]!.value, `${field}.failInfo`, 8).map(
      (bit) => names.find(([, n]) => n === bit)?.[0] ?? `bit ${bit}`,
    );
  }
  return out;
}

/** "rejection (unacceptedPolicy): <statusString>", for a message. */
export function describePkiStatus(s: PkiStatusInfo): string {
  const name = PKI_STATUS[s.status] ?? `status ${s.status}`;
  const bits = s.failInfo.length > 0 ? ` (${s.failInfo.join(', ')})` : '';
  return `${name}${bits}${s.statusString ? `: ${s.statusString}` : ''}`;
}

/**
 * An error for a request the TSA read but refuses, carrying the failInfo bit the refusal is
 * answered with (`failInfoOf`).
 */
export function refusal(
  failInfo: FailInfo,
  field: string,
  message: string,
  code: ErrorCode = 'INVALID_INPUT',
  kind: ErrorKind = 'invalid-input',
): SignetError {
  return new SignetError(kind, code, message, { field, details: { failInfo } });
}

/** The failInfo bit of a `refusal`; undefined for any other error. */
export function failInfoOf(e: unknown): FailInfo | undefined {
  const f = e instanceof SignetError ? e.details?.['failInfo'] : undefined;
  return typeof f === 'string' && Object.hasOwn(FAIL_INFO, f) ? (f as FailInfo) : undefined;
}
