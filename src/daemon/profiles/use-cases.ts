/** The profile logic's parts, wired to each other: what main.ts serves and test/unit drives. */
import type { Clock } from '../clock.js';
import type { CognitoGateway } from '../cognito-gateway.js';
import type { ConfigSource } from '../config-source.js';
import { HttpManagedLoginGateway } from '../http-managed-login-gateway.js';
import type { IdentityGateway } from '../identity-gateway.js';
import type { ManagedLoginGateway } from '../managed-login-gateway.js';
import { SdkIdentityGateway } from '../sdk-identity-gateway.js';
import type { TokenStore } from '../token-store.js';
import { AwsCredentialsUseCase } from './aws-credentials.js';
import { ClientSecrets } from './client-secret.js';
import { Devices } from './devices.js';
import { GetToken } from './get-token.js';
import { logout } from './logout.js';
import { Profiles } from './profiles.js';
import { Refresher } from './refresh.js';
import { Scheduler } from './scheduler.js';
import { SignIns } from './sign-in-flight.js';
import { profileStatuses } from './status.js';

export interface Parts {
  profiles: Profiles;
  store: TokenStore;
  gateway: CognitoGateway;
  clock: Clock;
  secrets: ClientSecrets;
  devices: Devices;
  refresher: Refresher;
  signIns: SignIns;
  /** A user pool's domain (managed login): auth_flow BROWSER signs in, and may refresh and revoke, there. */
  managedLogin: ManagedLoginGateway;
  awsCredentials: AwsCredentialsUseCase;
}

export type UseCases = ReturnType<typeof profileUseCases>;

export function profileUseCases(
  config: ConfigSource,
  store: TokenStore,
  gateway: CognitoGateway,
  clock: Clock,
  adaptors: { managedLogin?: ManagedLoginGateway; identity?: IdentityGateway } = {},
) {
  const managedLogin = adaptors.managedLogin ?? new HttpManagedLoginGateway();
  const identity = adaptors.identity ?? new SdkIdentityGateway();
  const parts = {
    store,
    gateway,
    clock,
    managedLogin,
    profiles: new Profiles(config, store),
    secrets: new ClientSecrets(),
  } as Parts;
  parts.devices = new Devices(parts);
  parts.refresher = new Refresher(parts);
  parts.signIns = new SignIns(parts);
  const scheduler = new Scheduler(parts);
  const getToken = new GetToken(parts);
  parts.awsCredentials = new AwsCredentialsUseCase(parts, getToken, identity);
  return {
    profiles: parts.profiles,
    get: getToken.get.bind(getToken),
    invalidate: getToken.invalidate.bind(getToken),
    devices: parts.devices.list.bind(parts.devices),
    logout: (name: string, options?: { local?: boolean }) => logout(parts, name, options),
    awsCredentials: parts.awsCredentials.get.bind(parts.awsCredentials),
    status: () => profileStatuses(parts.profiles, clock, parts.awsCredentials),
    /** Loads the stored profiles the config names and schedules their refreshes. */
    resume: () => {
      scheduler.resumeAll(store.names());
      parts.awsCredentials.resume(store.names());
    },
    shutdown: () => {
      scheduler.shutdown();
      parts.awsCredentials.shutdown();
    },
  };
}
