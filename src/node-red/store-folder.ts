import { ProvisionError } from '../provisioning/errors';
import { unsetVariable } from './server-options';

/**
 * A node's *Store folder*, trimmed ('' for none). INVALID_INPUT (field storeDir) when it names an
 * environment variable that is not set: Node-RED then keeps `${NAME}` as written, which would make a
 * folder of that name.
 */
export function storeFolderOf(value: unknown): string {
  const variable = unsetVariable(value);
  if (variable) {
    throw new ProvisionError('INVALID_INPUT', `The store folder names the environment variable ${variable}, which is not set for the Node-RED process.`, {
      field: 'storeDir',
    });
  }
  return typeof value === 'string' ? value.trim() : '';
}

/** storeFolderOf at deploy: the folder ('' when it cannot be used), and the error to report once and give every message that needs it. */
export function deployedStoreFolder(value: unknown): { storeDir: string; error?: ProvisionError } {
  try {
    return { storeDir: storeFolderOf(value) };
  } catch (error) {
    return { storeDir: '', error: error as ProvisionError };
  }
}
