/** configure's check of a user pool ID and its region: the region comes from the ID's prefix or --region. */
import { poolIdPattern, regionPattern } from '../shared/profile-keys.js';

/** Checks a pool ID and works out the region; returns what is wrong, or the region. */
export function checkPool(
  poolId: string,
  region: string | undefined,
): { region: string } | { error: string } {
  if (!poolIdPattern.test(poolId)) {
    return { error: `"${poolId}" is not a user pool ID like "eu-west-1_AbCdEf"` };
  }
  const prefix = poolId.slice(0, poolId.indexOf('_'));
  if (region !== undefined) {
    if (!regionPattern.test(region)) return { error: `"${region}" is not a region like "eu-west-1"` };
    if (regionPattern.test(prefix) && prefix !== region) {
      return { error: `the pool ${poolId} is in region ${prefix}, not ${region}` };
    }
    return { region };
  }
  if (regionPattern.test(prefix)) return { region: prefix };
  return { error: `the pool ID ${poolId} does not start with a region: give the region too (--region)` };
}
