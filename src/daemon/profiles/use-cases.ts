/** The profile logic's parts, wired to each other: what main.ts serves and test/unit drives. */
import type { Clock } from '../clock.js';
import type { CognitoGateway } from '../cognito-gateway.js';
import type { ConfigSource } from '../config-source.js';
import type { TokenStore } from '../token-store.js';
import { ClientSecrets } from './client-secret.js';
import { Devices } from './devices.js';
import { GetToken } from './get-token.js';
import { Logout } from './logout.js';
import { Profiles } from './profiles.js';
import { Refresher } from './refresh.js';
import { Scheduler } from './scheduler.js';
import { SignIns } from './sign-in-flight.js';
import { profileStatuses } from './status.js';

export type UseCases = ReturnType<typeof profileUseCases>;

export function profileUseCases(
  config: ConfigSource,
  store: TokenStore,
  gateway: CognitoGateway,
  clock: Clock,
) {
  const profiles = new Profiles(config, store);
  const secrets = new ClientSecrets();
  const devices = new Devices(profiles, store, gateway, clock);
  const refresher = new Refresher(profiles, store, gateway, secrets, devices);
  const scheduler = new Scheduler(profiles, refresher, clock);
  const getToken = new GetToken(
    profiles,
    refresher,
    new SignIns(profiles, gateway, secrets, devices, clock),
    clock,
  );
  const logout = new Logout(profiles, gateway, secrets);
  return {
    profiles,
    get: getToken.get.bind(getToken),
    invalidate: getToken.invalidate.bind(getToken),
    devices: devices.list.bind(devices),
    logout: logout.run.bind(logout),
    status: () => profileStatuses(profiles, clock),
    /** Loads the stored profiles the config names and schedules their refreshes. */
    resume: () => scheduler.resumeAll(store.names()),
    shutdown: () => scheduler.shutdown(),
  };
}
