import { printable } from '../shared/printable.js';
import type { DaemonStatus } from '../shared/protocol.js';

function when(epochSeconds: number | undefined, now: number): string {
  if (epochSeconds === undefined) return '-';
  const left = Math.round(epochSeconds - now / 1000);
  const at = new Date(epochSeconds * 1000).toISOString().replace('.000', '');
  return left >= 0 ? `${at} (in ${left} s)` : `${at} (${-left} s ago)`;
}

export function formatStatus(s: DaemonStatus, now: number): string {
  const lines = [
    `daemon: pid ${s.pid}, version ${s.version}, up ${s.uptimeSeconds} s`,
    `socket: ${s.socket} (${s.peerCheck ? `peer uid checked by ${s.peerCheck}` : `peer uid not checked${s.peerCheckInactive ? ` (${s.peerCheckInactive})` : ''}: the socket permissions alone keep others out`})`,
    `config: ${s.configFile}${s.configError ? ` (error: ${s.configError})` : ''}`,
  ];
  if (s.storeError) lines.push(`store: error: ${s.storeError}`);
  for (const notice of s.notices ?? []) lines.push(`store: ${notice}`);
  if (s.profiles.length === 0) lines.push('profiles: none');
  for (const p of s.profiles) {
    lines.push(`profile ${p.name}: ${p.state}${p.username ? ` as ${p.username}` : ''}`);
    if (p.idExpiresAt !== undefined) lines.push(`  id token expires:     ${when(p.idExpiresAt, now)}`);
    if (p.accessExpiresAt !== undefined)
      lines.push(`  access token expires: ${when(p.accessExpiresAt, now)}`);
    if (p.nextRefreshAt !== undefined) lines.push(`  next refresh:         ${when(p.nextRefreshAt, now)}`);
    if (p.awsCredentialsExpiresAt !== undefined)
      lines.push(`  AWS credentials expire: ${when(p.awsCredentialsExpiresAt, now)}`);
    if (p.lastError) lines.push(`  last error: ${p.lastError}`);
  }
  // Names, errors and notices come from the socket: no control characters reach the terminal.
  return `${lines.map((line) => printable(line)).join('\n')}\n`;
}
