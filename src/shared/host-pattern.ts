/**
 * The `hosts` patterns of a profile (where its tokens may go as git credentials) and the URL rules cog-token
 * applies before it sends a secret anywhere: https only, plain http only to this machine (loopback) or where
 * a pattern says `http://` itself; a wildcard never spans a suffix that many customers share.
 *
 * A pattern is `[https://|http://]host[:port][/path]`. `*` stands for part of one host name component.
 * Without a port it means the scheme's default port (443, or 80 for http). A path is compared segment by
 * segment after `.` and `..` (also percent-encoded) are resolved.
 */
import { createRequire } from 'node:module';

export type Scheme = 'https' | 'http';

export interface HostPattern {
  /** Only when the pattern names one: then only that scheme matches. */
  scheme?: Scheme;
  host: string;
  port?: string;
  /** Normalised segments joined by '/', without leading or trailing slashes; undefined for none. */
  path?: string;
}

export const defaultPorts: Readonly<Record<Scheme, string>> = { https: '443', http: '80' };

/** Splits "host", "host:port", "[v6]" or "[v6]:port". */
export function splitHostPort(text: string): { host: string; port?: string } {
  const v6 = /^(\[[^\]]*\])(?::(\d+))?$/.exec(text);
  if (v6) return { host: v6[1] as string, ...(v6[2] ? { port: v6[2] } : {}) };
  const m = /^(.*?)(?::(\d+))?$/.exec(text) as RegExpExecArray;
  return { host: m[1] as string, ...(m[2] ? { port: m[2] } : {}) };
}

/**
 * A URL path as a server would see it: percent-encoded dots decoded, `.` dropped, `..` removing the segment
 * before it (never above the root), no leading or trailing slash. "team-a/%2e%2e/team-b" is "team-b".
 */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const raw of path.split('/')) {
    const segment = raw.replace(/%2e/gi, '.');
    if (segment === '.' || (segment === '' && out.length === 0)) continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop();
  return out.join('/');
}

/** `hosts` entries: an optional scheme, a host of name characters, wildcards or a [v6] address, a path. */
const patternSyntax = /^(?:https?:\/\/)?(?:[\w.*-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?(?:\/[!-~]*)?$/i;

export function isPatternSyntax(pattern: string): boolean {
  return patternSyntax.test(pattern);
}

export function parseHostPattern(pattern: string): HostPattern {
  const m = /^(https?):\/\//i.exec(pattern);
  const scheme = m ? ((m[1] as string).toLowerCase() as Scheme) : undefined;
  const rest = m ? pattern.slice(m[0].length) : pattern;
  const slash = rest.indexOf('/');
  const hostPart = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? '' : normalizePath(rest.slice(slash + 1));
  const { host, port } = splitHostPort(hostPart.toLowerCase());
  return { ...(scheme ? { scheme } : {}), host, ...(port ? { port } : {}), ...(path ? { path } : {}) };
}

/** This machine: localhost, 127.0.0.0/8, ::1 (with or without brackets). */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  if (h === 'localhost' || h === '[::1]' || h === '::1') return true;
  const v4 = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4?.slice(1).every((n) => Number(n) <= 255) ?? false;
}

type Tldts = typeof import('tldts');
let tldts: Tldts | undefined;

/**
 * The Public Suffix List (through `tldts`, ICANN and private sections) is about 200 KB of data that takes
 * tens of milliseconds to load: it is loaded only for a pattern with a wildcard, never on the `get` hot path
 * of a config without one. A runtime require keeps it out of the bundles, in node_modules.
 */
function psl(): Tldts {
  tldts ??= createRequire(import.meta.url)('tldts') as Tldts;
  return tldts;
}

/**
 * For a host pattern with a wildcard that ranges over names anyone could register: the literal suffix the
 * wildcard spans (e.g. "execute-api.us-east-1.amazonaws.com", "cloudfront.net", "com"; "" for a pattern
 * like "*" that spans every name). undefined when there is no wildcard or it stays inside one registrable
 * domain (`*.mycompany.com`): the registrable domain (the public suffix and one label more, by the Public
 * Suffix List's ICANN and private sections) must be written out in full.
 */
export function wildcardOverSharedSuffix(host: string): { suffix: string } | undefined {
  if (!host.includes('*') || host.startsWith('[')) return undefined;
  const labels = host.replace(/\.$/, '').split('.');
  // A stand-in for every wildcard label: a name nobody's suffix rule singles out.
  const sample = labels.map((l) => (l.includes('*') ? 'x' : l)).join('.');
  const suffix = psl().getPublicSuffix(sample, { allowPrivateDomains: true }) ?? '';
  const suffixLabels = suffix === '' ? 0 : suffix.split('.').length;
  const registrable = labels.slice(-(suffixLabels + 1));
  if (labels.length > suffixLabels && registrable.every((l) => !l.includes('*'))) return undefined;
  let last = labels.length - 1;
  while (last >= 0 && !(labels[last] as string).includes('*')) last--;
  return { suffix: labels.slice(last + 1).join('.') };
}

/**
 * Why a URL cog-token sends secrets to is refused, or undefined: https, or http to a loopback host.
 */
export function insecureUrlReason(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? undefined : 'would carry passwords and tokens in clear (http)';
  }
  return 'is not an https URL';
}
