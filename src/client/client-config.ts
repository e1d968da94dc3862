/** The config as this client sees it (the daemon reads the same file); a missing file is an empty config. */
import { type Config, loadConfig } from '../shared/config.js';
import { resolvePaths } from '../shared/paths.js';

export function clientConfig(): Config {
  return loadConfig(resolvePaths().configFile);
}
