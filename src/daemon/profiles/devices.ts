/** Remembered devices: confirmed after a sign-in that got one, listed and forgotten at Cognito. */
import { hostname } from 'node:os';
import { type ProfileConfig, profileIdentity } from '../../shared/config.js';
import { CogTokenError, ConfigError, messageOf } from '../../shared/errors.js';
import { deviceVerifier, randomDevicePassword } from '../../shared/srp.js';
import { cognitoError } from '../cognito-errors.js';
import { isUnknownDevice } from '../cognito-gateway.js';
import { log } from '../log.js';
import type { DeviceRecord } from '../token-store.js';
import { heldTokens } from './state.js';
import type { Parts } from './use-cases.js';

export class Devices {
  constructor(private readonly parts: Parts) {}

  /** The device this machine holds for the profile, when it remembers devices. */
  local(p: ProfileConfig): DeviceRecord | undefined {
    return p.rememberDevice ? this.parts.store.loadDevice(p.name, profileIdentity(p)) : undefined;
  }

  /** ConfirmDevice with a fresh device password, so the next sign-ins can skip MFA on this machine. */
  async remember(
    p: ProfileConfig,
    accessToken: string,
    device: { deviceKey: string; deviceGroupKey: string },
  ): Promise<void> {
    if (!p.rememberDevice) return;
    const devicePassword = randomDevicePassword();
    const verifier = deviceVerifier({ ...device, devicePassword });
    try {
      const name = `cog-token@${hostname()}`;
      await this.parts.gateway.confirmDevice(p, accessToken, { deviceKey: device.deviceKey, name, verifier });
      this.parts.store.saveDevice(p.name, profileIdentity(p), { ...device, devicePassword });
      log.info(`profile ${p.name}: this machine is remembered as device ${device.deviceKey}`);
    } catch (error) {
      log.warn(
        `profile ${p.name}: could not remember this device (${messageOf(error)}); MFA will be asked again`,
      );
    }
  }

  /** The user's devices at Cognito, marking the one this machine holds; `forget` one first. */
  async list(name: string, forget?: string) {
    const { p, warnings } = this.parts.profiles.lookup(name);
    if (p.region === undefined) {
      // A BROWSER profile without its pool: the devices API is the pool's (region and endpoint).
      throw new ConfigError({
        profile: name,
        problem: "the devices are the user pool's, and this profile names no user_pool_id",
        remedy: `add user_pool_id to [profiles.${name}]`,
      });
    }
    const tokens = heldTokens(this.parts.profiles.state(p));
    if (!tokens || tokens.accessExpiresAt - this.parts.clock.now() / 1000 <= 0) {
      throw new CogTokenError('needs-sign-in', {
        profile: name,
        problem: 'no valid access token to ask Cognito with',
        remedy: `run cog-token get ${name} first`,
      });
    }
    const local = this.parts.store.loadDevice(p.name, profileIdentity(p));
    try {
      if (forget) {
        await this.parts.gateway.forgetDevice(p, tokens.accessToken, forget);
        if (local?.deviceKey === forget) this.parts.store.deleteDevice(p.name);
        log.info(`profile ${name}: device ${forget} forgotten`);
      }
      const devices = await this.parts.gateway.listDevices(p, tokens.accessToken);
      const current = forget === local?.deviceKey ? undefined : local?.deviceKey;
      return { devices: devices.map((d) => ({ ...d, current: d.deviceKey === current })), warnings };
    } catch (error) {
      if (forget && isUnknownDevice(error) && local?.deviceKey === forget) {
        this.parts.store.deleteDevice(p.name);
        return {
          devices: [],
          warnings: [...warnings, `device ${forget} was already unknown to Cognito; forgotten here`],
        };
      }
      throw cognitoError(p, 'devices', error);
    }
  }
}
