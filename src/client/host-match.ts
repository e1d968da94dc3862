/**
 * Which profile answers for a URL: each profile's `hosts` list holds patterns like "api.example.com",
 * "*.apps.example.com", "git.example.com:8443", "git.example.com/team-a" or "http://build.internal"
 * (syntax and normalisation in shared/host-pattern.ts). A token goes only over https, or over plain http to
 * a loopback host or where the pattern itself says `http://`. `*` stands for part of one name component (as
 * in git's URL matching); a pattern without a port means the scheme's default port; a pattern with a path
 * matches only when git sends the path (credential.useHttpPath) and, once `.`/`..` are resolved, it is that
 * path or below it. The most specific pattern wins; on a tie, the profile that comes first.
 */
import {
  defaultPorts,
  type HostPattern,
  isLoopbackHost,
  normalizePath,
  parseHostPattern,
  type Scheme,
  splitHostPort,
} from '../shared/host-pattern.js';

export interface Target {
  /** As git sends it: "https" or "http" (anything else is never answered). */
  protocol: string;
  /** As git sends it: "host" or "host:port" (IPv6 in brackets). */
  host: string;
  /** As git sends it with useHttpPath: "team-a/repo.git" (no leading slash). */
  path?: string;
}

export interface Claimant {
  name: string;
  hosts: readonly string[];
}

export type MatchResult =
  | { kind: 'match'; profile: string; pattern: string }
  /** Nothing matched, but these would have with the path: worth a hint about credential.useHttpPath. */
  | { kind: 'none'; needPath: { profile: string; pattern: string }[] };

function labelMatches(pattern: string, label: string): boolean {
  if (!pattern.includes('*')) return pattern === label;
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('[^.]*')}$`);
  return re.test(label);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function hostMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('[') || host.startsWith('[')) return pattern === host;
  const p = pattern.split('.');
  const h = host.split('.');
  return p.length === h.length && p.every((label, i) => labelMatches(label, h[i] as string));
}

function pathMatches(pattern: string, path: string): boolean {
  return path === pattern || path.startsWith(`${pattern}/`);
}

/** May a token for this pattern travel over this scheme to this host? */
function schemeAllowed(p: HostPattern, scheme: Scheme, host: string): boolean {
  if (p.scheme !== undefined) return p.scheme === scheme;
  return scheme === 'https' || isLoopbackHost(host);
}

/** Higher is more specific: path depth, then an explicit port, then literal characters in the host. */
function specificity(p: HostPattern): number[] {
  return [p.path ? p.path.split('/').length : 0, p.port ? 1 : 0, p.host.replace(/\*/g, '').length];
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function matchProfile(claimants: Iterable<Claimant>, target: Target): MatchResult {
  const needPath: { profile: string; pattern: string }[] = [];
  const protocol = target.protocol.trim().toLowerCase();
  if (protocol !== 'https' && protocol !== 'http') return { kind: 'none', needPath };
  const scheme: Scheme = protocol;
  const { host, port: explicitPort } = splitHostPort(target.host.trim().toLowerCase().replace(/\.$/, ''));
  const port = explicitPort ?? defaultPorts[scheme];
  const path = target.path === undefined ? undefined : normalizePath(target.path);
  let best: { profile: string; pattern: string; score: number[] } | undefined;
  for (const c of claimants) {
    for (const pattern of c.hosts) {
      const p = parseHostPattern(pattern);
      if (!schemeAllowed(p, scheme, host)) continue;
      if (!hostMatches(p.host, host)) continue;
      if ((p.port ?? defaultPorts[scheme]) !== port) continue;
      if (p.path !== undefined) {
        if (path === undefined) {
          needPath.push({ profile: c.name, pattern });
          continue;
        }
        if (!pathMatches(p.path, path)) continue;
      }
      const score = specificity(p);
      if (!best || compare(score, best.score) > 0) best = { profile: c.name, pattern, score };
    }
  }
  if (best) return { kind: 'match', profile: best.profile, pattern: best.pattern };
  return { kind: 'none', needPath };
}
