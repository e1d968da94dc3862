/**
 * Remembered devices: ConfirmDevice (stores the SRP verifier and salt the client made for its device
 * password), UpdateDeviceStatus, GetDevice, ListDevices, ForgetDevice and AdminForgetDevice.
 */
import { parseDeviceVerifier } from '../support/srp-server.js';
import {
  CognitoError,
  deviceNotFound,
  invalidParameter,
  isObject,
  type Json,
  optString,
  reqString,
  resourceNotFound,
} from './errors.js';
import type { DeviceRecord, PoolState } from './state.js';
import { authorize } from './tokens.js';

/** DeviceType as the API returns it (dates as epoch seconds, the JSON protocol's timestamp format). */
function deviceType(device: DeviceRecord): Json {
  return {
    DeviceKey: device.key,
    DeviceAttributes: [
      { Name: 'device_status', Value: 'valid' },
      { Name: 'device_name', Value: device.name ?? '' },
      { Name: 'dev:device_remembered_status', Value: device.remembered ? 'remembered' : 'not_remembered' },
    ],
    DeviceCreateDate: device.created / 1000,
    DeviceLastModifiedDate: device.modified / 1000,
    DeviceLastAuthenticatedDate: device.lastAuthenticated / 1000,
  };
}

/** A device (confirmed or not) that belongs to the user. */
function ownDevice(pool: PoolState, username: string, key: string): DeviceRecord {
  const device = pool.devices.get(key);
  if (!device || device.username !== username) throw deviceNotFound();
  return device;
}

export function confirmDevice(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const device = ownDevice(pool, user.username, reqString(body, 'DeviceKey'));
  const config = body.DeviceSecretVerifierConfig;
  if (!isObject(config)) throw invalidParameter('Missing required parameter DeviceSecretVerifierConfig');
  try {
    device.verifier = parseDeviceVerifier({
      passwordVerifier: reqString(config, 'PasswordVerifier'),
      salt: reqString(config, 'Salt'),
    });
  } catch (error) {
    throw invalidParameter(`Invalid DeviceSecretVerifierConfig: ${(error as Error).message}`);
  }
  const name = optString(body, 'DeviceName');
  if (name !== undefined) device.name = name;
  device.confirmed = true;
  device.remembered = pool.opts.deviceTracking === 'always';
  device.modified = pool.now();
  return { UserConfirmationNecessary: pool.opts.deviceTracking === 'user-opt-in' };
}

export function updateDeviceStatus(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const device = ownDevice(pool, user.username, reqString(body, 'DeviceKey'));
  const status = optString(body, 'DeviceRememberedStatus');
  if (status !== 'remembered' && status !== 'not_remembered') {
    throw invalidParameter('DeviceRememberedStatus must be remembered or not_remembered');
  }
  device.remembered = status === 'remembered';
  device.modified = pool.now();
  return {};
}

export function getDevice(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const device = ownDevice(pool, user.username, reqString(body, 'DeviceKey'));
  if (!device.confirmed) throw deviceNotFound();
  return { Device: deviceType(device) };
}

export function listDevices(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const devices = [...pool.devices.values()].filter((d) => d.username === user.username && d.confirmed);
  return { Devices: devices.map(deviceType) };
}

export function forgetDevice(pool: PoolState, body: Json): Json {
  const user = authorize(pool, optString(body, 'AccessToken'));
  const device = ownDevice(pool, user.username, reqString(body, 'DeviceKey'));
  pool.devices.delete(device.key);
  return {};
}

/** Admin operation (SigV4-signed in real life; the double does not check signatures). */
export function adminForgetDevice(pool: PoolState, body: Json): Json {
  const poolId = reqString(body, 'UserPoolId');
  if (poolId !== pool.opts.poolId) throw resourceNotFound(`User pool ${poolId} does not exist.`);
  const user = pool.findUser(reqString(body, 'Username'));
  if (!user) throw new CognitoError('UserNotFoundException', 'User does not exist.');
  const device = ownDevice(pool, user.username, reqString(body, 'DeviceKey'));
  pool.devices.delete(device.key);
  return {};
}
