import { isRsaAlgorithm, MAX_KEY_POOL_SIZE, useSharedKeyPool, type SharedKeyPool } from '../provisioning/keys';
import type { KeyPool, KeyAlgorithm } from '../provisioning/types';
import type { PoolFill } from './status';

/**
 * Keys kept ready when the node's property is absent (flows made before it existed) or not a number:
 * as many as the node's default max parallel, so a burst of that many devices needs no key generation.
 */
export const DEFAULT_KEY_POOL = 4;

export function keyPoolSize(value: unknown): number {
  if (value === undefined || value === null || value === '') return DEFAULT_KEY_POOL;
  const size = Number(value);
  return Number.isInteger(size) && size >= 0 && size <= MAX_KEY_POOL_SIZE ? size : DEFAULT_KEY_POOL;
}

/**
 * A provision node's share of the process-wide key pool for its configured RSA algorithm (EC keys
 * take under a millisecond: no pool, no private keys kept in memory for nothing). Nodes that make
 * no keys (another credentials type) hold none.
 */
export class NodeKeyPool {
  private readonly shared: SharedKeyPool | undefined;
  private readonly unsubscribe: (() => void) | undefined;

  constructor(size: number, credentialsType: string | undefined, algorithm: KeyAlgorithm, onFill: (fill: PoolFill) => void) {
    const makesKeys = (credentialsType || 'X509_CERTIFICATE') === 'X509_CERTIFICATE';
    if (size === 0 || !makesKeys || !isRsaAlgorithm(algorithm)) return;
    this.shared = useSharedKeyPool(algorithm, size);
    const { pool } = this.shared;
    this.unsubscribe = pool.onChange((state) => onFill({ ready: state.ready, size: state.size }));
    onFill({ ready: pool.state().ready, size: pool.size });
  }

  /** The pool for a device with this key algorithm (undefined: a fresh key as without a pool). */
  poolFor(algorithm: KeyAlgorithm | undefined): KeyPool | undefined {
    return this.shared?.pool.algorithm === algorithm ? this.shared?.pool : undefined;
  }

  /** The node is closing: the last node on a pool closes it and its keys are dropped. */
  async release(): Promise<void> {
    this.unsubscribe?.();
    await this.shared?.release();
  }
}
