/**
 * The address a server listens on (`signet up`, `signet witness`, `signet admission`), checked
 * before anything else is done, and a failed listen named by the setting at fault. A typo such
 * as `--host 999.1.1.1` otherwise reached listen() late, after the data folder was made, and
 * failed as a DNS error naming no setting, or met the exposure refusal first (it is not loopback).
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import { describeSystemError, invalid, quoteInput, type SignetError } from '../../core/errors.ts';

/** Where the host and the port came from, for messages: `--host`, `SIGNET_HOST`, `FILE: host`. */
export interface ListenSettings {
  host: string;
  port: string;
}

/** A DNS name: dot-separated labels of letters, digits, `-` and `_`, 253 characters at most. */
const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/**
 * `host` as listen() takes it: an IP address (an IPv6 one may be bracketed, as in a URL) or a
 * host name that resolves here. Refused otherwise, naming `setting` and the value; dotted
 * numbers that are no IPv4 address (999.1.1.1) are refused as such, not looked up as a name.
 */
export async function checkListenHost(host: string, setting: string): Promise<string> {
  const bare = /^\[([^\]]*)\]$/.exec(host)?.[1] ?? host;
  if (net.isIPv6(bare) || (bare === host && net.isIPv4(host))) return bare;
  const notValid = `${quoteInput(host)} is not a valid address`;
  if (bare !== host || /^[\d.]+$/.test(host) || !HOST_NAME.test(host))
    throw invalid(
      setting,
      `${notValid}: give an IP address (127.0.0.1, ::1, 0.0.0.0) or a host name of this machine`,
    );
  try {
    await dns.lookup(host);
  } catch (e) {
    throw invalid(
      setting,
      `${notValid}: it is not an IP address, and no host of that name is found (DNS); give an IP address or a host name that resolves here`,
      e,
    );
  }
  return host;
}

/** A failed listen() as one line naming the setting at fault: the port when it is taken, else the host. */
export function listenFailed(
  e: unknown,
  host: string,
  port: number,
  settings: ListenSettings,
): SignetError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return invalid(settings.port, describeSystemError(e, `${host} (port ${port})`), e);
  if (code === 'EACCES')
    return invalid(
      settings.port,
      `port ${port} on ${host} needs privileges this process does not have (ports below 1024); choose a port from 1024 up`,
      e,
    );
  return invalid(settings.host, describeSystemError(e, host), e);
}
