/** `cog-token devices PROFILE [--forget KEY] [--json]`: the user's remembered devices at Cognito. */
import { printable } from '../shared/printable.js';
import type { DeviceEntry } from '../shared/protocol.js';

function when(epoch?: number): string {
  return epoch === undefined ? '-' : new Date(epoch * 1000).toISOString().replace('.000', '');
}

export function formatDevices(devices: DeviceEntry[], json: boolean): string {
  if (json) return `${JSON.stringify(devices, null, 2)}\n`;
  if (devices.length === 0) return 'no devices\n';
  return `${devices
    .map((d) =>
      // Names come from Cognito: no control characters reach the terminal.
      printable(
        `${d.current ? '*' : ' '} ${d.deviceKey}  ${d.name ?? '-'}  ${d.remembered ?? '-'}  last sign-in ${when(d.lastAuthenticated)}`,
      ),
    )
    .join('\n')}\n`;
}
