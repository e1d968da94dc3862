/** Every test file: the AWS SDK's Node-version notice is dropped, as the daemon and the demo drop it. */
import { quietSdkWarnings } from '../src/shared/sdk-warnings.js';

quietSdkWarnings();
